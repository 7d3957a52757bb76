variable "name" {
  description = "Function name (already prefixed by the caller)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, hyphens or underscores."
  }
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

variable "settings" {
  description = "Runtime settings shared by the project's functions. tracing: X-Ray active tracing; when false the handlers import no X-Ray code (about 95 ms less cold start)."
  type = object({
    runtime              = string
    architecture         = string
    memory_mb            = number
    timeout_seconds      = number
    reserved_concurrency = optional(number)
    log_retention_days   = number
    tracing              = optional(bool, true)
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
