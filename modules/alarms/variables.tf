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

variable "alarms" {
  description = "The root's alarms settings (validated there): the SNS topic to notify (null creates an encrypted one, output topic_arn), email subscriptions to it, and the thresholds."
  type = object({
    topic_arn          = string
    emails             = list(string)
    iterator_age_ms    = number
    queue_age_seconds  = number
    api_latency_p99_ms = number
  })
}

variable "tags" {
  description = "Tags for every alarm."
  type        = map(string)
  default     = {}
}
