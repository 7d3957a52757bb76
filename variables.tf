variable "name_prefix" {
  description = "Prefix of every resource name; two stacks with different prefixes share an account."
  type        = string
  default     = "ledger"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "pattern" {
  description = "Where summaries are written from: 1, the stream function, or 2, a writer behind an SQS queue (docs/deploying.md#pattern)."
  type        = number
  default     = 2
  validation {
    condition     = contains([1, 2], var.pattern)
    error_message = "pattern must be 1 or 2."
  }
}

variable "lambda_zip" {
  description = "Path of the Lambda package built by `make package` (build.py)."
  type        = string
  default     = "dist/lambda.zip"
  validation {
    condition     = fileexists(var.lambda_zip)
    error_message = "lambda_zip does not exist: run `make package` first."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for every table, queue, log group and function environment, or null for AWS managed keys (docs/deploying.md#kms_key_arn)."
  type        = string
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags for every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "operator_arns" {
  description = "IAM roles of the operators who may send to the stream DLQ and the buffer queue (docs/deploying.md#operator_arns)."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for arn in var.operator_arns : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", arn))])
    error_message = "operator_arns must be IAM role (or STS) ARNs."
  }
  validation {
    # A queue policy sees a role's session as aws:PrincipalArn = the role's ARN, path included.
    condition     = alltrue([for arn in var.operator_arns : !strcontains(arn, ":assumed-role/")])
    error_message = "operator_arns must not hold an sts assumed-role ARN (the queues would always refuse it): give the role's ARN, path included (arn:aws:iam::<account>:role/<path>/<name>)."
  }
}

variable "tables" {
  description = "Each table's deletion protection and point-in-time recovery, and the summary table's billing (docs/deploying.md#tables)."
  type = object({
    details_deletion_protection  = optional(bool, true)
    summary_deletion_protection  = optional(bool, true)
    applied_deletion_protection  = optional(bool, true)
    balances_deletion_protection = optional(bool, true)
    holds_deletion_protection    = optional(bool, true)
    history_deletion_protection  = optional(bool, true)
    point_in_time_recovery       = optional(bool, true)
    summary_billing_mode         = optional(string, "PROVISIONED")
    summary_read_capacity        = optional(number, 5)
    summary_write_capacity       = optional(number, 5)
  })
  default  = {}
  nullable = false
  validation {
    condition     = contains(["PROVISIONED", "PAY_PER_REQUEST"], var.tables.summary_billing_mode)
    error_message = "tables.summary_billing_mode must be PROVISIONED or PAY_PER_REQUEST."
  }
  validation {
    condition     = alltrue([for n in [var.tables.summary_read_capacity, var.tables.summary_write_capacity] : n >= 1 && n == floor(n)])
    error_message = "tables.summary_read_capacity and tables.summary_write_capacity must be whole numbers of at least 1."
  }
}

variable "history" {
  description = "The day closes: the allowance added to the integration timeout to seal a day, and the scheduled closer's schedule (UTC) and timeout (docs/history.md)."
  type = object({
    index_allowance_seconds = optional(number, 60)
    schedule                = optional(string, "cron(5 * * * ? *)")
    closer_timeout_seconds  = optional(number, 900)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.history.index_allowance_seconds >= 10 && var.history.index_allowance_seconds <= 3600 && var.history.index_allowance_seconds == floor(var.history.index_allowance_seconds)
    error_message = "history.index_allowance_seconds must be a whole number of seconds from 10 to 3600."
  }
  # A recurring schedule (local.schedule_pattern): a one-time at() would close once and never again.
  validation {
    condition     = can(regex(local.schedule_pattern, var.history.schedule))
    error_message = "history.schedule must be an EventBridge Scheduler rate(value unit) expression (rate(1 hour), rate(2 hours)) or cron(minutes hours day-of-month month day-of-week year) with \"?\" in exactly one of the two day fields."
  }
  validation {
    condition     = var.history.closer_timeout_seconds >= 60 && var.history.closer_timeout_seconds <= 900 && var.history.closer_timeout_seconds == floor(var.history.closer_timeout_seconds)
    error_message = "history.closer_timeout_seconds must be a whole number of seconds from 60 to 900 (Lambda's longest)."
  }
}

variable "guard" {
  description = "The balance guard, which refuses a debit past its floor with 422, or null (the default) for none (docs/balance-guard.md)."
  type = object({
    # No longer read (guard init marks its epoch initialised itself); kept so that a
    # configuration that sets it still plans, and said in every plan by the check below.
    initialised = optional(bool)
    # Holds (docs/holds.md): reserve funds now, capture or void them later; null (the default) for none.
    holds = optional(object({
      max_open_per_balance = optional(number, 50)
      max_expiry_seconds   = optional(number, 2592000)
      sweep_schedule       = optional(string, "rate(1 minute)")
    }))
  })
  default = null
  validation {
    condition     = alltrue([for h in try(var.guard.holds, null) == null ? [] : [var.guard.holds] : h.max_open_per_balance >= 1 && h.max_open_per_balance <= 10000 && h.max_open_per_balance == floor(h.max_open_per_balance)])
    error_message = "guard.holds.max_open_per_balance must be a whole number from 1 to 10000."
  }
  validation {
    condition     = alltrue([for h in try(var.guard.holds, null) == null ? [] : [var.guard.holds] : h.max_expiry_seconds >= 60 && h.max_expiry_seconds <= 2592000 && h.max_expiry_seconds == floor(h.max_expiry_seconds)])
    error_message = "guard.holds.max_expiry_seconds must be a whole number of seconds from 60 to 2592000 (30 days): a hold outlives no card authorisation."
  }
  validation {
    condition     = alltrue([for h in try(var.guard.holds, null) == null ? [] : [var.guard.holds] : can(regex(local.schedule_pattern, h.sweep_schedule))])
    error_message = "guard.holds.sweep_schedule must be an EventBridge Scheduler rate(value unit) expression (rate(1 minute), rate(5 minutes)) or cron(minutes hours day-of-month month day-of-week year) with \"?\" in exactly one of the two day fields."
  }
}

# guard.initialised (read before epochs) is not read: said in every plan rather than silently dropped.
check "guard_initialised_is_not_read" {
  assert {
    condition     = try(var.guard.initialised, null) == null
    error_message = "guard.initialised is no longer read: `ledger-ops guard init` marks the guard's epoch initialised itself (docs/balance-guard.md); remove it."
  }
}

variable "api" {
  description = "Who may call the API, and the stage's name, throttling and logs (docs/deploying.md#api)."
  type = object({
    authorization          = optional(string, "AWS_IAM")
    cognito_user_pool_arns = optional(list(string), [])
    cognito_grants = optional(object({
      read     = optional(string, "custom:accounts")
      transfer = optional(string, "custom:accounts")
      post     = optional(string)
      limits   = optional(string)
      # Holds (docs/holds.md): reading a hold is granted with reading; making, capturing and voiding one
      # to no claim until chosen.
      read_hold = optional(string, "custom:accounts")
      hold      = optional(string)
      capture   = optional(string)
      void      = optional(string)
    }), {})
    allow_unauthenticated = optional(bool, false)
    stage_name            = optional(string, "v1")
    throttle_rate         = optional(number, 100)
    throttle_burst        = optional(number, 200)
    log_retention_days    = optional(number, 30)
    execution_log_level   = optional(string, "OFF")
    create_logging_role   = optional(bool, false)
    access_log            = optional(bool)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.api.authorization != "NONE" || var.api.allow_unauthenticated
    error_message = "api.authorization = \"NONE\" opens every account to anyone who can reach the API: set api.allow_unauthenticated = true to mean it."
  }
  validation {
    condition     = var.api.authorization != "COGNITO" || length(var.api.cognito_user_pool_arns) > 0
    error_message = "api.authorization = \"COGNITO\" needs api.cognito_user_pool_arns (one or more user pool ARNs)."
  }
  validation {
    condition     = contains(["AWS_IAM", "COGNITO", "NONE"], var.api.authorization)
    error_message = "api.authorization must be AWS_IAM, COGNITO or NONE."
  }
  validation {
    condition     = alltrue([for arn in var.api.cognito_user_pool_arns : can(regex("^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[A-Za-z0-9_-]+$", arn))])
    error_message = "api.cognito_user_pool_arns must be Cognito user pool ARNs."
  }
  validation {
    condition     = alltrue([for claim in values(var.api.cognito_grants) : claim == null || can(regex("^[A-Za-z0-9_.:-]{1,64}$", claim))])
    error_message = "api.cognito_grants must bind each operation to a claim name of letters, digits and _ . : - (for example custom:accounts), or to null for no grant."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,64}$", var.api.stage_name))
    error_message = "api.stage_name must be 1-64 letters, digits or underscores."
  }
  validation {
    condition     = var.api.throttle_rate > 0 && var.api.throttle_burst > 0 && var.api.throttle_burst == floor(var.api.throttle_burst)
    error_message = "api.throttle_rate must be positive and api.throttle_burst a positive whole number."
  }
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.api.log_retention_days)
    error_message = "api.log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.api.execution_log_level)
    error_message = "api.execution_log_level must be OFF, ERROR or INFO."
  }
}

variable "functions" {
  description = "Settings of the functions, and how long applied markers live (docs/deploying.md#functions)."
  type = object({
    runtime              = optional(string, "python3.12")
    architecture         = optional(string, "arm64")
    memory_mb            = optional(number, 256)
    timeout_seconds      = optional(number, 30)
    reserved_concurrency = optional(number)
    log_retention_days   = optional(number, 30)
    marker_ttl_days      = optional(number, 15)
    tracing              = optional(bool, true)
  })
  default  = {}
  nullable = false
  validation {
    condition     = contains(["python3.12", "python3.13"], var.functions.runtime)
    error_message = "functions.runtime must be python3.12 or python3.13."
  }
  validation {
    condition     = contains(["arm64", "x86_64"], var.functions.architecture)
    error_message = "functions.architecture must be arm64 or x86_64 (build the zip with the same ARCH)."
  }
  validation {
    condition     = var.functions.memory_mb >= 128 && var.functions.memory_mb <= 10240 && var.functions.timeout_seconds >= 1 && var.functions.timeout_seconds <= 900
    error_message = "functions.memory_mb must be 128-10240 and functions.timeout_seconds 1-900."
  }
  validation {
    condition     = var.functions.reserved_concurrency == null || try(var.functions.reserved_concurrency >= 1, false)
    error_message = "functions.reserved_concurrency must be null or at least 1."
  }
  validation {
    condition     = var.functions.marker_ttl_days >= 15
    error_message = "functions.marker_ttl_days must be at least 15, longer than SQS's longest retention (14 days)."
  }
  validation {
    condition = alltrue([for n in [
      var.functions.memory_mb, var.functions.timeout_seconds, var.functions.reserved_concurrency,
      var.functions.log_retention_days, var.functions.marker_ttl_days,
    ] : n == floor(n) if n != null])
    error_message = "functions.memory_mb, timeout_seconds, reserved_concurrency, log_retention_days and marker_ttl_days must be whole numbers."
  }
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.functions.log_retention_days)
    error_message = "functions.log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "stream" {
  description = "The event source mapping of the details stream (docs/deploying.md#stream)."
  type = object({
    batch_size                 = optional(number, 100)
    batching_window_seconds    = optional(number, 1)
    retry_attempts             = optional(number, 10)
    maximum_record_age_seconds = optional(number, 3600)
    parallelization_factor     = optional(number, 1)
    starting_position          = optional(string, "TRIM_HORIZON")
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.stream.batch_size >= 1 && var.stream.batch_size <= 10000 && var.stream.batching_window_seconds >= 0 && var.stream.batching_window_seconds <= 300
    error_message = "stream.batch_size must be 1-10000 and stream.batching_window_seconds 0-300."
  }
  validation {
    condition     = var.stream.retry_attempts >= -1 && var.stream.retry_attempts <= 10000 && var.stream.parallelization_factor >= 1 && var.stream.parallelization_factor <= 10
    error_message = "stream.retry_attempts must be -1-10000 and stream.parallelization_factor 1-10."
  }
  validation {
    condition     = var.stream.maximum_record_age_seconds == -1 || (var.stream.maximum_record_age_seconds >= 60 && var.stream.maximum_record_age_seconds <= 604800)
    error_message = "stream.maximum_record_age_seconds must be -1 (no limit) or 60-604800."
  }
  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.stream.starting_position)
    error_message = "stream.starting_position must be TRIM_HORIZON or LATEST."
  }
  validation {
    condition = alltrue([for n in [
      var.stream.batch_size, var.stream.batching_window_seconds, var.stream.retry_attempts,
      var.stream.maximum_record_age_seconds, var.stream.parallelization_factor,
    ] : n == floor(n)])
    error_message = "stream.batch_size, batching_window_seconds, retry_attempts, maximum_record_age_seconds and parallelization_factor must be whole numbers."
  }
}

variable "buffer" {
  description = "Pattern 2's buffer queue and writer, and how pattern 1 retires them (docs/deploying.md#buffer)."
  type = object({
    retired                    = optional(bool, false)
    removal_guard              = optional(bool, true)
    max_receive_count          = optional(number, 23)
    maximum_concurrency        = optional(number, 2)
    batch_size                 = optional(number, 10)
    batching_window_seconds    = optional(number, 1)
    visibility_timeout_seconds = optional(number, 31)
    message_retention_seconds  = optional(number, 345600)
    backoff_max_seconds        = optional(number, 25)
    writer_timeout_seconds     = optional(number, 5)
  })
  default  = {}
  nullable = false
  validation {
    condition     = var.buffer.max_receive_count >= 1 && var.buffer.max_receive_count <= 1000
    error_message = "buffer.max_receive_count must be 1-1000."
  }
  validation {
    condition     = var.buffer.maximum_concurrency >= 2 && var.buffer.maximum_concurrency <= 1000
    error_message = "buffer.maximum_concurrency must be 2-1000."
  }
  validation {
    condition     = var.buffer.batch_size >= 1 && var.buffer.batch_size <= 10000 && (var.buffer.batch_size <= 10 || var.buffer.batching_window_seconds >= 1)
    error_message = "buffer.batch_size must be 1-10000, and above 10 needs buffer.batching_window_seconds of at least 1."
  }
  validation {
    condition     = var.buffer.visibility_timeout_seconds >= 0 && var.buffer.visibility_timeout_seconds <= 43200 && var.buffer.message_retention_seconds >= 60 && var.buffer.message_retention_seconds <= 1209600
    error_message = "buffer.visibility_timeout_seconds must be 0-43200 and buffer.message_retention_seconds 60-1209600."
  }
  validation {
    condition     = var.buffer.backoff_max_seconds >= 1 && var.buffer.backoff_max_seconds < var.buffer.visibility_timeout_seconds
    error_message = "buffer.backoff_max_seconds must be at least 1 and less than buffer.visibility_timeout_seconds (a longer backoff than the timeout would hide a failed message longer than a crashed one)."
  }
  validation {
    condition     = var.buffer.writer_timeout_seconds >= 1 && var.buffer.writer_timeout_seconds <= 900
    error_message = "buffer.writer_timeout_seconds must be 1-900."
  }
  validation {
    # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html: at least six times the function's timeout.
    condition     = var.buffer.visibility_timeout_seconds >= 6 * var.buffer.writer_timeout_seconds + var.buffer.batching_window_seconds
    error_message = "buffer.visibility_timeout_seconds must be at least 6 x buffer.writer_timeout_seconds + buffer.batching_window_seconds (AWS's advice for SQS mappings; it bounds recovery from a crashed writer)."
  }
  validation {
    # A validation that names another variable needs Terraform 1.9 (versions.tf).
    condition     = var.functions.marker_ttl_days * 86400 > var.buffer.message_retention_seconds + 86400
    error_message = "Applied markers must outlive every message: functions.marker_ttl_days must exceed buffer.message_retention_seconds by more than a day."
  }
  validation {
    condition     = alltrue([for k, n in var.buffer : n == floor(n) if !contains(["retired", "removal_guard"], k)])
    error_message = "every buffer setting is a whole number (counts and seconds)."
  }
  validation {
    condition     = !var.buffer.retired || var.pattern == 1
    error_message = "buffer.retired removes the buffer that pattern 2 sends its deltas through: apply pattern = 1 first, let the writer drain the queue, then retire it."
  }
}

variable "alarms" {
  description = "CloudWatch alarms and whom they notify, or null for no alarms (docs/deploying.md#alarms)."
  type = object({
    topic_arn                  = optional(string)
    emails                     = optional(list(string), [])
    iterator_age_ms            = optional(number, 60000)
    queue_age_seconds          = optional(number, 300)
    api_latency_p99_ms         = optional(number, 1000)
    guard_conflicts_per_minute = optional(number, 60)
    refused_writes_per_minute  = optional(number, 100)
  })
  default = {}
  validation {
    condition     = var.alarms == null || try(var.alarms.iterator_age_ms > 0 && var.alarms.queue_age_seconds > 0 && var.alarms.api_latency_p99_ms > 0 && var.alarms.guard_conflicts_per_minute >= 0 && var.alarms.refused_writes_per_minute >= 0, false)
    error_message = "alarms.iterator_age_ms, queue_age_seconds and api_latency_p99_ms must be positive, and guard_conflicts_per_minute and refused_writes_per_minute at least 0."
  }
  validation {
    condition     = var.alarms == null || alltrue([for e in try(var.alarms.emails, []) : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarms.emails must be e-mail addresses."
  }
  validation {
    condition     = try(var.alarms.topic_arn, null) == null || can(regex("^arn:aws[a-z-]*:sns:", var.alarms.topic_arn))
    error_message = "alarms.topic_arn must be an SNS topic ARN."
  }
}

variable "events" {
  description = "Balance events on an EventBridge bus, or null (the default) for none (docs/events.md)."
  type = object({
    bus_name       = optional(string)
    batch_size     = optional(number, 10)
    retry_attempts = optional(number, 10)
  })
  default = null
  validation {
    condition     = var.events == null || try(var.events.batch_size >= 1 && var.events.batch_size <= 10 && floor(var.events.batch_size) == var.events.batch_size, false)
    error_message = "events.batch_size must be a whole number from 1 to 10: a Pipe's source batch may not exceed what its target takes, and an event bus takes 10 (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html)."
  }
  validation {
    condition     = var.events == null || try(var.events.retry_attempts >= -1 && var.events.retry_attempts <= 10000 && floor(var.events.retry_attempts) == var.events.retry_attempts, false)
    error_message = "events.retry_attempts must be a whole number from -1 (retry until the record expires) to 10000."
  }
  validation {
    condition     = var.events == null || try(var.events.bus_name == null || can(regex("^[A-Za-z0-9._-]{1,256}$", var.events.bus_name)), false)
    error_message = "events.bus_name must be an event bus name (letters, digits, . _ -), or null to create one."
  }
}
