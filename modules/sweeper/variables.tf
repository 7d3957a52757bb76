variable "name_prefix" {
  description = "Prefix of the stack's names, and the functions' metrics namespace."
  type        = string
}

variable "names" {
  description = "The sweeper's names, computed once by the root: its function (and role), its dead-letter queue and its schedule."
  type = object({
    function = string
    dlq      = string
    schedule = string
  })
}

variable "tables" {
  description = "The tables a release writes (the details table's release row, the hold's item, the balance item) and the holds table's index the sweeper reads."
  type = object({
    details  = object({ name = string, arn = string })
    holds    = object({ name = string, arn = string, index_name = string })
    balances = object({ name = string, arn = string })
  })
}

variable "guard_epoch" {
  description = "The balance guard's epoch (the stage's guardEpoch): the sweeper releases into the balance items of this epoch only."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{12}$", var.guard_epoch))
    error_message = "guard_epoch must be the guard's epoch: 12 hexadecimal digits."
  }
}

variable "schedule_expression" {
  description = "When the sweeper runs: an EventBridge Scheduler rate() or cron() expression, in UTC (validated by the root)."
  type        = string
}

variable "function" {
  description = "The sweeper function the root creates from this module's function output: its name and ARN."
  type = object({
    name = string
    arn  = string
  })
}

variable "function_role_arn" {
  description = "The sweeper function's execution role, by ARN computed from its name (the queue names it without waiting for the role)."
  type        = string
}

variable "operator_arns" {
  description = "IAM principals (besides the function and the schedule) that may send to the dead-letter queue (the root's operator_arns, as for every queue)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the dead-letter queue and the schedule's input; null for AWS managed keys."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
