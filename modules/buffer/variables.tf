variable "name_prefix" {
  description = "The stack's name prefix: the writer's metrics namespace."
  type        = string
}

variable "names" {
  description = "Names the root computes (local.names.buffer): the writer function, the buffer queue and its DLQ."
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

variable "function" {
  description = "The writer (the root's function module): its name and ARN, which the mapping and the removal guard invoke, and its timeout."
  type = object({
    name            = string
    arn             = string
    timeout_seconds = number
  })
}

variable "buffer" {
  description = "The root's buffer settings, validated there (docs/deploying.md#buffer)."
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

# Operators alone send to the DLQ: SQS's redrive needs no permission, and the writer parks what it refuses in
# the stream DLQ.
variable "senders" {
  description = "IAM principals that may send to the buffer queue (the stream function, operators) and to its DLQ (operators)."
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
  description = "Customer managed KMS key for the queues; null for their SQS managed encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
