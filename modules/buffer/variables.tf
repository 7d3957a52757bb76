variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
}

variable "tables" {
  description = "Tables the writer uses (outputs of the tables module)."
  type = object({
    summary = object({ name = string, arn = string })
    applied = object({ name = string, arn = string })
  })
}

variable "package" {
  description = "The built Lambda zip: path and base64 SHA-256."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "function" {
  description = "Function runtime settings (see the function module)."
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

variable "queue" {
  description = "Buffer queue and the writer's mapping. maximum_concurrency is what protects a summary table that cannot scale."
  type = object({
    max_receive_count          = number
    maximum_concurrency        = number
    batch_size                 = number
    batching_window_seconds    = number
    visibility_timeout_seconds = number
    message_retention_seconds  = number
    backoff_max_seconds        = number
  })
  validation {
    condition     = var.queue.maximum_concurrency >= 2 && var.queue.maximum_concurrency <= 1000
    error_message = "queue.maximum_concurrency must be between 2 and 1000 (Lambda's limits)."
  }
}

variable "marker_ttl_seconds" {
  description = "How long applied markers live; longer than any redelivery (docs/exactly-once.md)."
  type        = number
}

variable "senders" {
  description = "IAM principals that may send to the buffer queue (the stream function, operators) and to its DLQ (the writer, which parks what it refuses, and operators; SQS's redrive needs no permission)."
  type = object({
    queue = list(string)
    dlq   = optional(list(string), [])
  })
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the queues, logs and environment; null for AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
