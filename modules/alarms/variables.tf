variable "name_prefix" {
  description = "Prefix of every alarm name."
  type        = string
}

variable "targets" {
  description = "What to watch: the functions, queues, API stage and tables, each null where the stack has none."
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
    day_close_pipe     = optional(string)
  })
}

variable "alarms" {
  description = "The root's alarms settings, validated there (docs/deploying.md#alarms)."
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
