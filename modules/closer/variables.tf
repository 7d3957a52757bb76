variable "name_prefix" {
  description = "Prefix of the stack's names, and the functions' metrics namespace."
  type        = string
}

variable "names" {
  description = "The closer's names, computed once by the root: its function (and role), its dead-letter queue and its schedule."
  type = object({
    function = string
    dlq      = string
    schedule = string
  })
}

variable "tables" {
  description = "The tables the closer reads (the details table and its index, the summaries' keys) and writes (the closes)."
  type = object({
    details = object({ name = string, arn = string, index_name = string })
    summary = object({ name = string, arn = string })
    history = object({ name = string, arn = string })
  })
}

variable "seal_seconds" {
  description = "How long after a UTC day's end the day is sealed and may be closed (the root's history.seal_seconds)."
  type        = number
  validation {
    condition     = var.seal_seconds >= 1 && var.seal_seconds <= 86400 && var.seal_seconds == floor(var.seal_seconds)
    error_message = "seal_seconds must be a whole number of seconds from 1 to 86400."
  }
}

variable "schedule_expression" {
  description = "When the closer runs: an EventBridge Scheduler rate() or cron() expression, in UTC (validated by the root)."
  type        = string
}

variable "function" {
  description = "The closer function the root creates from this module's function output: its name and ARN."
  type = object({
    name = string
    arn  = string
  })
}

variable "function_role_arn" {
  description = "The closer function's execution role, by ARN computed from its name (the queue names it without waiting for the role)."
  type        = string
}

variable "operator_arns" {
  description = "IAM principals (besides the function and the schedule) that may send to the dead-letter queue (the root's operator_arns, as for every queue)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the dead-letter queue and the schedule's input; null for AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
