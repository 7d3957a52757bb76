variable "name_prefix" {
  description = "Prefix of every table name."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for server-side encryption; null uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null
}

variable "tables" {
  description = "The root's tables settings, validated there (docs/deploying.md#tables)."
  type = object({
    details_deletion_protection  = bool
    summary_deletion_protection  = bool
    applied_deletion_protection  = bool
    balances_deletion_protection = bool
    history_deletion_protection  = bool
    point_in_time_recovery       = bool
    summary_billing_mode         = string
    summary_read_capacity        = number
    summary_write_capacity       = number
  })
}

variable "tags" {
  description = "Tags for every table."
  type        = map(string)
  default     = {}
}
