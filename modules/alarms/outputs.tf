output "alarm_names" {
  description = "Names of every alarm."
  value       = sort([for a in aws_cloudwatch_metric_alarm.this : a.alarm_name])
}

output "topic_arn" {
  description = "The SNS topic every alarm notifies (the one given, or the one created)."
  value       = local.topic_arn
}

output "metrics" {
  description = "The metric each alarm reads, by alarm key, as \"namespace metric dimension,names\" (names sorted): what tests hold to the dimension sets AWS publishes."
  value       = { for key, alarm in local.alarms : key => "${alarm.namespace} ${alarm.metric} ${join(",", sort(keys(alarm.dimensions)))}" }
}
