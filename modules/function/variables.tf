variable "name" {
  description = "Function name (already prefixed by the caller)."
  type        = string
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "handler" {
  description = "Python handler, module.function."
  type        = string
}

variable "package" {
  description = "The built zip: its path and base64 SHA-256 (from filebase64sha256)."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "functions" {
  description = "The root's functions settings, validated there, with this function's timeout (docs/deploying.md#functions)."
  type = object({
    runtime              = string
    architecture         = string
    memory_mb            = number
    timeout_seconds      = number
    reserved_concurrency = optional(number)
    log_retention_days   = number
    marker_ttl_days      = number
    tracing              = bool
  })
}

variable "environment" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}
}

variable "policy_json" {
  description = "The function's own permissions (logs and X-Ray are added here)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the log group and environment variables; null for AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
