variable "queue_name" {
  description = "Name of the queue the policy protects (in this account and region)."
  type        = string
}

variable "service_sender" {
  description = "An AWS service that may send to the queue on behalf of one resource only (its aws:SourceArn), such as EventBridge for a bus's dead-letter queue; null: none."
  type = object({
    service    = string
    source_arn = string
  })
  default = null
  validation {
    condition     = var.service_sender == null || try(endswith(var.service_sender.service, ".amazonaws.com") && can(regex("^arn:aws[a-z-]*:", var.service_sender.source_arn)), false)
    error_message = "service_sender.service must be a service principal (<name>.amazonaws.com) and service_sender.source_arn an ARN."
  }
}

variable "senders" {
  description = "ARNs of the IAM principals (roles, with their paths) that may send to the queue, every other being refused."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for arn in var.senders : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", arn))])
    error_message = "senders must be IAM or STS ARNs."
  }
  validation {
    condition     = alltrue([for arn in var.senders : !strcontains(arn, ":assumed-role/")])
    error_message = "senders must not hold an sts assumed-role ARN: aws:PrincipalArn of a role's session is the role's ARN, path included."
  }
}
