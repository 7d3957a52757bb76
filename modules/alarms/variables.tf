variable "name_prefix" {
  description = "Prefix of every alarm name."
  type        = string
}

variable "targets" {
  description = "What to watch: functions, the stream function, DLQs, the buffer queue (null in pattern 1), the API stage and the summary table."
  type = object({
    functions          = list(string)
    stream_function    = string
    dead_letter_queues = list(string)
    buffer_queue       = optional(string)
    api_name           = string
    api_stage          = string
    summary_table      = string
  })
}

variable "thresholds" {
  description = "Alarm thresholds."
  type = object({
    iterator_age_ms    = optional(number, 60000)
    queue_age_seconds  = optional(number, 300)
    api_latency_p99_ms = optional(number, 1000)
    evaluation_periods = optional(number, 1)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.thresholds.iterator_age_ms > 0 && var.thresholds.queue_age_seconds > 0 && var.thresholds.api_latency_p99_ms > 0
    error_message = "thresholds must be positive."
  }
}

variable "topic_arn" {
  description = "SNS topic notified on alarm and recovery; null creates an encrypted one (output topic_arn)."
  type        = string
  default     = null
}

variable "emails" {
  description = "Addresses subscribed to the alarm topic by email (each must confirm the subscription)."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for e in var.emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "emails must be e-mail addresses."
  }
}

variable "tags" {
  description = "Tags for every alarm."
  type        = map(string)
  default     = {}
}
