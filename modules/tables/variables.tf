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
    holds_deletion_protection    = bool
    history_deletion_protection  = bool
    point_in_time_recovery       = bool
    summary_billing_mode         = string
    summary_read_capacity        = number
    summary_write_capacity       = number
  })
}

variable "holds_index" {
  description = "The name of the holds table's sparse index of open holds (hold_item.json's index, read by the root)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.holds_index))
    error_message = "holds_index must be a DynamoDB index name: 3-255 letters, digits, _ . or -."
  }
}

variable "tags" {
  description = "Tags for every table."
  type        = map(string)
  default     = {}
}
