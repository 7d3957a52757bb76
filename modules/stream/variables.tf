variable "name_prefix" {
  description = "The stack's name prefix: the functions' metrics namespace."
  type        = string
}

variable "names" {
  description = "Names the root computes (local.names.stream): the function and its DLQ."
  type = object({
    function = string
    dlq      = string
  })
}

variable "pattern" {
  description = "1: the stream function writes summaries; 2: it sends deltas to the buffer queue (the root's pattern, validated there)."
  type        = number
}

variable "tables" {
  description = "Tables the function uses (outputs of the tables module)."
  type = object({
    details = object({ arn = string, stream_arn = string })
    summary = object({ name = string, arn = string })
    applied = object({ name = string, arn = string })
  })
}

variable "buffer_queue" {
  description = "The buffer queue (pattern 2 only); null in pattern 1."
  type = object({
    url = string
    arn = string
  })
  default = null
}

variable "dlq_senders" {
  description = "The functions' roles that park poison in the stream DLQ: the stream function's, and the writer's while the buffer exists (operator_arns may always)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "function_arn" {
  description = "ARN of the stream function (the root's function module), which the mapping invokes."
  type        = string
}

variable "stream" {
  description = "Event source mapping of the details stream (the root's stream, validated there)."
  type = object({
    batch_size                 = number
    batching_window_seconds    = number
    retry_attempts             = number
    maximum_record_age_seconds = number
    parallelization_factor     = number
    starting_position          = string
  })
}

variable "operator_arns" {
  description = "IAM principals besides the stream function that may send to its DLQ (the root's operator_arns: role ARNs with their paths)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the DLQ; null for the queue's SQS managed encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
