output "bus" {
  description = "The event bus the balance events are put on: name and arn."
  value       = { name = local.bus_name, arn = local.bus_arn }
}

output "pipe_name" {
  description = "The Pipe from the summary stream to the bus."
  value       = aws_pipes_pipe.this.name
}

output "day_close" {
  description = "Day-close events: the Pipe from the history stream to the bus, and the events' source and detail-type, to match in a rule."
  value = {
    pipe_name = aws_pipes_pipe.day_closes.name
    event     = { source = local.source, detail_type = local.day_close.detail_type }
  }
}

output "dlq" {
  description = "The Pipes' dead-letter queue (balance and day-close events): name, url and arn."
  value       = { name = aws_sqs_queue.dlq.name, url = aws_sqs_queue.dlq.url, arn = aws_sqs_queue.dlq.arn }
}

output "bus_dlq" {
  description = "The dead-letter queue of the bus the module creates (events it cannot encrypt, decrypt or process): name, url and arn; null for a bus given by name."
  value       = local.bus_dlq ? { name = aws_sqs_queue.bus_dlq[0].name, url = aws_sqs_queue.bus_dlq[0].url, arn = aws_sqs_queue.bus_dlq[0].arn } : null
}

output "event" {
  description = "The events' source and detail-type, to match in a rule."
  value       = { source = local.source, detail_type = local.detail_type }
}

output "function" {
  description = "What the enrichment function needs from this module: its environment variables and its policy (JSON)."
  value = {
    environment = local.environment
    # It reads nothing and writes nothing: its input is the Pipe's batch, its output the details.
    policy_json = jsonencode({ Version = "2012-10-17", Statement = [] })
  }
}
