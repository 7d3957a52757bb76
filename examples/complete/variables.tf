variable "lambda_zip" {
  description = "The package make package built in the ledger's folder."
  type        = string
  default     = "../../dist/lambda.zip"
}

variable "operator_arns" {
  description = "IAM roles of the operators who run the ledger's tools (DLQ replay)."
  type        = list(string)
  default     = []
}

variable "alarm_emails" {
  description = "Addresses the alarms page."
  type        = list(string)
  default     = ["payments-oncall@example.com"]
}

variable "apigateway_logging_role_exists" {
  description = "Whether this account and region already name API Gateway's CloudWatch Logs role (false: the stack creates it, an account-wide setting)."
  type        = bool
  default     = false
}
