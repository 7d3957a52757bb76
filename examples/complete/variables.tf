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
