variable "name_prefix" {
  description = "The deployment's name that every event carries, the function's metrics namespace and the prefix of the created bus's name."
  type        = string
}

variable "name" {
  description = "Name of the Pipe and its function, which the root computes (local.names.events); the Pipe's role and queues add a suffix."
  type        = string
}

variable "summary" {
  description = "The summary table (tables module output, with its stream on): name, arn and stream_arn."
  type = object({
    name       = string
    arn        = string
    stream_arn = string
  })
}

variable "history" {
  description = "The history table (tables module output, stream on): name, arn (the enrichment tells its records by it) and stream_arn (the day-close Pipe reads it)."
  type = object({
    name       = string
    arn        = string
    stream_arn = string
  })
}

variable "events" {
  description = "The root's events settings (validated there): bus_name (an existing bus to publish to; null creates one), batch_size and retry_attempts of the Pipe's source."
  type = object({
    bus_name       = string
    batch_size     = number
    retry_attempts = number
  })
}

variable "function_arn" {
  description = "ARN of the enrichment function (the root's function module), which the Pipe invokes."
  type        = string
}

variable "operator_arns" {
  description = "Operators who may send to (replay into) the Pipe's dead-letter queue (the root's operator_arns: role ARNs with their paths)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the bus and its queues; null for AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
