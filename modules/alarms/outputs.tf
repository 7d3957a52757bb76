output "alarm_names" {
  description = "Names of every alarm."
  value       = sort([for a in aws_cloudwatch_metric_alarm.this : a.alarm_name])
}
