variable "name_prefix" {
  description = "Prefix of every resource name, and the deployment's name that every event carries."
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

variable "events" {
  description = "The root's events settings (validated there): bus_name (an existing bus to publish to; null creates one), batch_size and retry_attempts of the Pipe's source."
  type = object({
    bus_name       = string
    batch_size     = number
    retry_attempts = number
  })
}

variable "package" {
  description = "The built Lambda zip (the enrichment function): its path and base64 SHA-256."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "functions" {
  description = "The root's functions settings (validated there), as the function module takes them."
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

variable "operator_arns" {
  description = "Operators who may send to (replay into) the Pipe's dead-letter queue (the root's operator_arns: role ARNs with their paths)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the bus, the DLQ and the function; null for AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
