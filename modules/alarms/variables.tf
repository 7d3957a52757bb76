variable "name_prefix" {
  description = "Prefix of every alarm name."
  type        = string
}

variable "targets" {
  description = "What to watch: functions, the stream function, DLQs, the buffer queue (null in pattern 1), the API stage, the summary table, and with the balance guard its table and the API's metric of refused money writes (both null without the guard), and the balance events' Pipe (null without events)."
  type = object({
    functions          = list(string)
    stream_function    = string
    dead_letter_queues = list(string)
    buffer_queue       = optional(string)
    api_name           = string
    api_stage          = string
    summary_table      = string
    balances_table     = optional(string)
    refused_writes     = optional(object({ namespace = string, metric = string, dimensions = map(string) }))
    events_pipe        = optional(string)
  })
}

variable "alarms" {
  description = "The root's alarms settings (validated there): the SNS topic to notify (null creates an encrypted one, output topic_arn), email subscriptions to it, and the thresholds (with the balance guard on: guard_conflicts_per_minute, transaction conflicts on the balance items a minute; refused_writes_per_minute, money writes refused with 422 a minute)."
  type = object({
    topic_arn                  = string
    emails                     = list(string)
    iterator_age_ms            = number
    queue_age_seconds          = number
    api_latency_p99_ms         = number
    guard_conflicts_per_minute = number
    refused_writes_per_minute  = number
  })
}

variable "tags" {
  description = "Tags for every alarm."
  type        = map(string)
  default     = {}
}
