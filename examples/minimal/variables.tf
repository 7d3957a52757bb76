variable "lambda_zip" {
  description = "The package make package built in the ledger's folder."
  type        = string
  default     = "../../dist/lambda.zip"
}
