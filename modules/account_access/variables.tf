variable "api" {
  description = "The ledger's api_access output: execution_arn, stage_name and routes by operation."
  type = object({
    execution_arn = string
    stage_name    = string
    routes        = map(list(string))
  })
  validation {
    condition     = alltrue([for operation in ["read", "post", "transfer"] : contains(keys(var.api.routes), operation)])
    error_message = "api.routes must name the read, post and transfer routes (pass the ledger's api_access output)."
  }
}

variable "grants" {
  description = "What the principal may do: each grant lists accounts and operations (docs/api.md#security-who-may-do-what)."
  type = list(object({
    accounts   = list(string)
    operations = list(string)
  }))
  validation {
    condition     = length(var.grants) > 0 && alltrue([for g in var.grants : length(g.accounts) > 0 && length(g.operations) > 0])
    error_message = "grants must hold at least one grant, each with accounts and operations."
  }
  validation {
    condition     = alltrue(flatten([for g in var.grants : [for a in g.accounts : can(regex("^${local.account_id}$", a))]]))
    error_message = "Every account id must be 1-64 letters, digits, _ or - (as the API accepts them; never a wildcard)."
  }
  validation {
    condition     = alltrue(flatten([for g in var.grants : [for o in g.operations : contains(["read", "post", "transfer", "limits", "hold", "capture", "void", "read_hold"], o)]]))
    error_message = "operations must be read, post, transfer, limits, hold, capture, void or read_hold."
  }
  validation {
    condition     = alltrue(flatten([for g in var.grants : [for o in g.operations : contains(keys(var.api.routes), o)]]))
    error_message = "Every granted operation must be one the ledger serves: limits only with the balance guard on, and hold, capture, void and read_hold only with holds on (the root's guard setting)."
  }
}

variable "sid" {
  description = "The policy statement's Sid."
  type        = string
  default     = "LedgerAccounts"
  validation {
    condition     = can(regex("^[A-Za-z0-9]{1,64}$", var.sid))
    error_message = "sid must be 1-64 letters or digits."
  }
}
