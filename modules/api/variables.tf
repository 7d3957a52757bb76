variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "tables" {
  description = "Tables the API reads and writes (outputs of the tables module)."
  type = object({
    details = object({ name = string, arn = string, index_name = string })
    summary = object({ name = string, arn = string })
  })
}

variable "settings" {
  description = "Authorization (AWS_IAM; COGNITO with the user pools and the claim listing the caller's accounts; NONE only with allow_unauthenticated, which the root module checks), stage throttling, access-log retention, stage name."
  type = object({
    authorization          = optional(string, "AWS_IAM")
    cognito_user_pool_arns = optional(list(string), [])
    account_claim          = optional(string, "custom:accounts")
    allow_unauthenticated  = optional(bool, false)
    stage_name             = optional(string, "v1")
    throttle_rate          = optional(number, 100)
    throttle_burst         = optional(number, 200)
    log_retention_days     = optional(number, 30)
    execution_log_level    = optional(string, "OFF")
    create_logging_role    = optional(bool, false)
  })
  default  = {}
  nullable = false
  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.settings.execution_log_level)
    error_message = "settings.execution_log_level must be OFF, ERROR or INFO."
  }
  validation {
    condition     = contains(["AWS_IAM", "COGNITO", "NONE"], var.settings.authorization)
    error_message = "api.authorization must be AWS_IAM, COGNITO or NONE."
  }
  validation {
    condition     = alltrue([for arn in var.settings.cognito_user_pool_arns : can(regex("^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[A-Za-z0-9_-]+$", arn))])
    error_message = "api.cognito_user_pool_arns must be Cognito user pool ARNs."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]{1,64}$", var.settings.account_claim))
    error_message = "api.account_claim must be a claim name of letters, digits and _ . : - (for example custom:accounts)."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,64}$", var.settings.stage_name))
    error_message = "settings.stage_name must be 1-64 letters, digits or underscores."
  }
  validation {
    condition     = var.settings.throttle_rate > 0 && var.settings.throttle_burst > 0
    error_message = "settings.throttle_rate and settings.throttle_burst must be positive."
  }
  validation {
    condition     = var.settings.throttle_burst == floor(var.settings.throttle_burst) && var.settings.log_retention_days == floor(var.settings.log_retention_days)
    error_message = "settings.throttle_burst and settings.log_retention_days must be whole numbers."
  }
}

variable "currencies" {
  description = "ISO 4217 code -> minor unit (decimal places) of every accepted currency; the root reads it from currencies.json."
  type        = map(number)
  nullable    = false
  validation {
    condition     = length(var.currencies) > 0 && alltrue([for code, places in var.currencies : can(regex("^[A-Z]{3}$", code)) && contains([0, 1, 2, 3, 4], places)])
    error_message = "currencies must map three-letter upper-case codes to 0-4 decimal places."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the access-log group; null for the AWS managed key."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
