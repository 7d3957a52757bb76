variable "name_prefix" {
  description = "Prefix of every table name."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for server-side encryption; null uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null
}

variable "details" {
  description = "Account Details table: deletion protection and point-in-time recovery."
  type = object({
    deletion_protection    = optional(bool, true)
    point_in_time_recovery = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "summary" {
  description = "Account Summary table: deletion protection and capacity. PROVISIONED with small capacity reproduces the scaling challenge."
  type = object({
    deletion_protection    = optional(bool, true)
    billing_mode           = optional(string, "PROVISIONED")
    read_capacity          = optional(number, 5)
    write_capacity         = optional(number, 5)
    point_in_time_recovery = optional(bool, true)
  })
  default  = {}
  nullable = false
  validation {
    condition     = contains(["PROVISIONED", "PAY_PER_REQUEST"], var.summary.billing_mode)
    error_message = "summary.billing_mode must be PROVISIONED or PAY_PER_REQUEST."
  }
  validation {
    condition     = var.summary.read_capacity >= 1 && var.summary.write_capacity >= 1
    error_message = "summary.read_capacity and summary.write_capacity must be at least 1."
  }
}

variable "applied" {
  description = "Applied-marker table: deletion protection. The markers are the memory of exactly-once: without them every redelivered record counts again."
  type = object({
    deletion_protection = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags for every table."
  type        = map(string)
  default     = {}
}
