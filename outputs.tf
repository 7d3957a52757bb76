output "pattern" {
  description = "The deployed pattern (1 or 2)."
  value       = var.pattern
}

output "api_url" {
  description = "Base URL of the API stage; append /accounts/{accountId}/transactions or /summary."
  value       = module.api.invoke_url
}

output "rest_api_id" {
  description = "REST API id."
  value       = module.api.rest_api_id
}

output "stage_name" {
  description = "API stage name."
  value       = module.api.stage_name
}

output "details_table" {
  description = "Account Details table: name, arn, stream_arn, index_name."
  value       = module.tables.details
}

output "summary_table" {
  description = "Account Summary table: name, arn and stream_arn (the stream the balance events read; on whether events are or not)."
  value       = module.tables.summary
}

output "applied_table" {
  description = "Applied-marker table: name and arn."
  value       = module.tables.applied
}

output "balances_table" {
  description = "Balances table of the balance guard (ledger-ops guard init seeds it): name and arn; kept while the guard is off."
  value       = module.tables.balances
}

output "holds_table" {
  description = "Holds table (docs/holds.md): name, arn and its sparse index of open holds; kept while holds are off."
  value       = module.tables.holds
}

output "holds" {
  description = "Holds when on (docs/holds.md): their bounds, and the sweeper's schedule, function and dead-letter queue; null when off."
  value = local.holds ? {
    max_open_per_balance = var.guard.holds.max_open_per_balance
    max_expiry_seconds   = var.guard.holds.max_expiry_seconds
    schedule             = module.sweeper[0].schedule
    sweeper              = { name = module.sweeper_function[0].name, arn = module.sweeper_function[0].arn }
    sweeper_dlq_url      = module.sweeper[0].dlq.url
  } : null
}

output "history_table" {
  description = "History table of the day and month closes (docs/history.md): name, arn and stream_arn (the stream the day-close events read; always on)."
  value       = module.tables.history
}

output "history" {
  description = "The closer: the margin after a UTC day's end when it is sealed and can be closed, its schedule, function and dead-letter queue (docs/history.md)."
  value = {
    seal_seconds   = local.seal_seconds
    schedule       = module.closer.schedule
    closer         = { name = module.closer_function.name, arn = module.closer_function.arn }
    closer_dlq_url = module.closer.dlq.url
  }
}

output "guard" {
  description = "The balance guard when on: its epoch (the stage's guardEpoch, which guard init seeds); null when off."
  value       = module.api.guard
}

output "details_stream_arn" {
  description = "Stream ARN of the details table."
  value       = module.tables.details.stream_arn
}

output "stream_function_name" {
  description = "Name of the stream function."
  value       = module.stream_function.name
}

output "writer_function_name" {
  description = "Name of the queue writer (pattern 2); null in pattern 1."
  value       = try(module.writer_function[0].name, null)
}

output "stream_dlq_url" {
  description = "DLQ of the stream: on-failure destination and poison records."
  value       = module.stream.dlq.url
}

output "buffer_queue_url" {
  description = "Buffer queue URL (pattern 2); null in pattern 1."
  value       = try(module.buffer[0].queue.url, null)
}

output "buffer_dlq_url" {
  description = "Buffer queue's DLQ URL (pattern 2); null in pattern 1."
  value       = try(module.buffer[0].dlq.url, null)
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms (empty when alarms is null)."
  value       = try(module.alarms[0].alarm_names, [])
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify: subscribe to it to be paged (null when alarms is null)."
  value       = try(module.alarms[0].topic_arn, null)
}

output "api_access_log" {
  description = "The stage's access-log group, or null when the stage writes no access log (api.access_log)."
  value       = module.api.access_log ? module.api.access_log_group_name : null
}

output "api_access" {
  description = "For modules/account_access (AWS_IAM): the execution ARN, the stage and every route by operation, from which it renders the IAM policy that grants a principal given operations on given accounts."
  value = {
    execution_arn = module.api.execution_arn
    stage_name    = module.api.stage_name
    routes        = module.api.routes
  }
}

output "unserved_routes" {
  description = "The routes the API keeps for an option that is off (the guard's, the holds'), each answering 404 not_served: by method, its route (METHOD/path) and why."
  value       = module.api.unserved
}

output "marker_ttl_seconds" {
  description = "How long an applied marker lives (functions.marker_ttl_days): ledger-ops replays no DLQ message within a day of it."
  value       = var.functions.marker_ttl_days * 86400
}

output "events" {
  description = "Balance and day-close events (null when off): the bus (name, arn), the balance events' source and detail-type to match in a rule and their Pipe, the day-close events' (day_close: pipe_name, event), the enrichment function, the Pipes' dead-letter queue, the created bus's (bus_dlq; null for a bus given by name), and the deployment name every event carries."
  value = var.events == null ? null : {
    bus           = module.events[0].bus
    event         = module.events[0].event
    pipe_name     = module.events[0].pipe_name
    day_close     = module.events[0].day_close
    function_name = module.events_function[0].name
    dlq           = module.events[0].dlq
    bus_dlq       = module.events[0].bus_dlq
    deployment    = var.name_prefix # every event's deployment (ledger-ops events resync writes it too)
  }
}
