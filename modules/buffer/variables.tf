variable "name_prefix" {
  description = "The stack's name prefix: the writer's metrics namespace."
  type        = string
}

variable "names" {
  description = "Names the root computes (local.names.buffer): the writer function (and its role), the buffer queue and its DLQ."
  type = object({
    function = string
    queue    = string
    dlq      = string
  })
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

variable "functions" {
  description = "The root's functions settings (validated there; see the function module). The writer's timeout is buffer.writer_timeout_seconds instead."
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

variable "buffer" {
  description = "The root's buffer settings (validated there): the queue, the writer's mapping and timeout, and the backoff. maximum_concurrency is what protects a summary table that cannot scale."
  type = object({
    retired                    = bool
    removal_guard              = bool
    max_receive_count          = number
    maximum_concurrency        = number
    batch_size                 = number
    batching_window_seconds    = number
    visibility_timeout_seconds = number
    message_retention_seconds  = number
    backoff_max_seconds        = number
    writer_timeout_seconds     = number
  })
}

variable "senders" {
  description = "IAM principals that may send to the buffer queue (the stream function, operators) and to its DLQ (operators; SQS's redrive needs no permission, and the writer parks what it refuses in the stream DLQ)."
  type = object({
    queue = list(string)
    dlq   = optional(list(string), [])
  })
}

variable "poison_dlq" {
  description = "Where the writer parks the messages and changes it refuses: the stream DLQ (url, arn), which outlives every pattern switch."
  type        = object({ url = string, arn = string, name = string })
}

variable "stream_function" {
  description = "The stream function (name, arn), which the removal guard reads: the buffer is not removed while it may still publish."
  type        = object({ name = string, arn = string })
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
