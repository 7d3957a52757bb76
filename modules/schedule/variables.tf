variable "names" {
  description = "The schedule's names, computed once by the root: the schedule (and its role, named after it) and the dead-letter queue."
  type = object({
    schedule = string
    dlq      = string
  })
}

variable "description" {
  description = "What the schedule does, in one sentence (its description in EventBridge Scheduler)."
  type        = string
}

variable "schedule_expression" {
  description = "When the function runs: an EventBridge Scheduler rate() or cron() expression, in UTC (validated by the root)."
  type        = string
}

variable "event_age_seconds" {
  description = "How old a run's record or an undelivered invocation may grow before it is dropped: the next run does its work."
  type        = number
  validation {
    condition     = var.event_age_seconds >= 60 && var.event_age_seconds <= 21600 && var.event_age_seconds == floor(var.event_age_seconds)
    error_message = "event_age_seconds must be a whole number of seconds from 60 to 21600 (Lambda's and EventBridge Scheduler's bounds)."
  }
}

variable "function" {
  description = "The function the schedule runs (created by the root with the function module): its name and ARN."
  type = object({
    name = string
    arn  = string
  })
}

variable "function_role_arn" {
  description = "The function's execution role, by ARN computed from its name (the queue names it without waiting for the role)."
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
