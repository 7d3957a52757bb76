# Every alarm modules/alarms creates reads a metric on a dimension set AWS publishes (published_metrics.json,
# each triple with the AWS page that lists it): an alarm on another set never has data and never fires.
# The alarms are a union of independent groups, so two runs cover every combination: every optional target
# off, and every one on.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  alarms = {
    topic_arn          = "arn:aws:sns:eu-west-1:123456789012:alarms", emails = [], iterator_age_ms = 60000, queue_age_seconds = 300,
    api_latency_p99_ms = 1000, guard_conflicts_per_minute = 60, refused_writes_per_minute = 100
  }
  published = [for m in jsondecode(file("tests/terraform/published_metrics.json")).metrics : "${m.namespace} ${m.metric} ${join(",", sort(m.dimensions))}"]
}

run "every_alarm_without_the_options_reads_a_published_metric" {
  command = plan
  module {
    source = "./modules/alarms"
  }
  variables {
    targets = {
      functions = ["tftest-stream"], stream_function = "tftest-stream", dead_letter_queues = ["tftest-stream-dlq"],
      api_name  = "tftest-ledger", api_stage = "v1", summary_table = "tftest-account-summary"
    }
  }

  assert {
    condition     = alltrue([for metric in values(output.metrics) : contains(var.published, metric)])
    error_message = "an alarm reads a metric on a dimension set AWS does not publish (tests/terraform/published_metrics.json)"
  }
}

run "every_alarm_with_every_option_reads_a_published_metric" {
  command = plan
  module {
    source = "./modules/alarms"
  }
  variables {
    targets = {
      functions          = ["tftest-stream", "tftest-writer", "tftest-events"], stream_function = "tftest-stream",
      dead_letter_queues = ["tftest-stream-dlq", "tftest-buffer-dlq", "tftest-events-dlq"], buffer_queue = "tftest-buffer",
      api_name           = "tftest-ledger", api_stage = "v1", summary_table = "tftest-account-summary", balances_table = "tftest-account-balances",
      refused_writes     = { namespace = "cqrs-ledger", metric = "RefusedWrites", dimensions = { ApiId = "abc123" } }, events_pipe = "tftest-events",
      day_close_pipe     = "tftest-events-day-closes"
    }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 19 && contains(keys(aws_cloudwatch_metric_alarm.this), "balance-throttled-writes")
    error_message = "every optional group's alarms are planned"
  }
  assert {
    condition     = alltrue([for metric in values(output.metrics) : contains(var.published, metric)])
    error_message = "an alarm reads a metric on a dimension set AWS does not publish (tests/terraform/published_metrics.json)"
  }
}
