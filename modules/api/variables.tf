variable "name_prefix" {
  description = "Prefix of the API's other resource names (its roles, authorizer and metric filter)."
  type        = string
}

variable "name" {
  description = "The REST API's name (the root's local.names.api), which its access log group and the alarms' ApiName dimension carry too."
  type        = string
}

variable "tables" {
  description = "Tables the API reads and writes (the tables module's outputs): balances with the guard on, holds with holds on; history is read."
  type = object({
    details  = object({ name = string, arn = string, index_name = string })
    summary  = object({ name = string, arn = string })
    balances = object({ name = string, arn = string })
    holds    = object({ name = string, arn = string })
    history  = object({ name = string, arn = string })
  })
}

variable "guard" {
  description = "The root's guard setting, or null for none: money writes count into the balance items, and with holds the hold routes are served (docs/holds.md)."
  type = object({
    holds = optional(object({
      max_open_per_balance = number
      max_expiry_seconds   = number
    }))
  })
  default = null
}

variable "api" {
  description = "The root's api settings, validated there (docs/deploying.md#api)."
  type = object({
    authorization          = string
    cognito_user_pool_arns = list(string)
    cognito_grants         = object({ read = string, post = string, transfer = string, limits = string, hold = string, capture = string, void = string, read_hold = string })
    stage_name             = string
    throttle_rate          = number
    throttle_burst         = number
    log_retention_days     = number
    execution_log_level    = string
    create_logging_role    = bool
    access_log             = optional(bool)
  })
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

variable "id_patterns" {
  description = "The account id and write id patterns (whole-string, without anchors); the root reads them from ids.json."
  type        = object({ accountId = string, writeId = string })
  nullable    = false
  validation {
    # An id is written into the requests' JSON as it is and spliced into larger patterns: no quote, no |.
    condition     = alltrue([for pattern in values(var.id_patterns) : can(regex("^\\[[A-Za-z0-9_-]+\\]\\{[0-9]+,[0-9]+\\}$", pattern))])
    error_message = "id_patterns must each be one bracket class of letters, digits, _ and - with a bounded count, such as [A-Za-z0-9_-]{1,64}."
  }
}

variable "balance_item" {
  description = "The balance item's attributes, each by the placeholder its expressions use, and whether only holds write it; the root reads them from balance_item.json."
  type        = list(object({ placeholder = string, name = string, holds = optional(bool, false) }))
  nullable    = false
}

variable "hold_item" {
  description = "A hold's item's attributes, each by the placeholder its expressions use; the root reads them from hold_item.json."
  type        = list(object({ placeholder = string, name = string }))
  nullable    = false
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
