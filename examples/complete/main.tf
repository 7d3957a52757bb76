# The ledger with every option set: pattern 2 behind a fixed-capacity summary table, Cognito users
# who hold accounts in a claim, a customer managed key, alarms to a team's address, tuned functions,
# stream and buffer, the balance guard, and balance events with a queue subscribed (events.tf). Build the package first: make package (in the ledger's folder).

provider "aws" {}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  # Where this account's ARNs begin, per service: arn:<partition>:<service>:<region>:<account>.
  arn = { for service in ["logs", "sqs"] : service => "arn:${data.aws_partition.current.partition}:${service}:${data.aws_region.current.name}:${local.account}" }
}

# One key for every table, queue, log group and function environment; CloudWatch Logs and EventBridge may use it.
resource "aws_kms_key" "ledger" {
  description         = "cqrs-ledger data"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Account"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs uses the key as its regional service principal, with the log group's ARN as
        # encryption context: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "${local.arn.logs}:log-group:*" } }
      },
      {
        # The balance events' bus and its dead-letter queue are encrypted with this key: EventBridge uses it
        # for this account's buses (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html).
        Sid       = "EventBridgeBus"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
      },
      {
        # And it delivers to this stack's queues that SQS encrypts with this key (the bus's dead-letter queue,
        # the downstream queue and its dead-letter queue, events.tf): SQS asks KMS for EventBridge with the
        # queue's ARN as encryption context, which binds this grant to those queues whether or not the
        # request carries aws:SourceAccount
        # (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
        Sid       = "EventBridgeToQueues"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringLike = { "kms:EncryptionContext:aws:sqs:arn" = "${local.arn.sqs}:ledger-prod-*" } }
      },
    ]
  })
}

# Customers and tellers sign in here. custom:accounts lists the accounts a customer holds, which it may
# read and transfer out of; custom:tellers lists the accounts a teller may post transactions to;
# custom:risk lists the accounts whose overdraft limits a risk officer may set (the module's
# api.cognito_grants below). All three are set by the back office, never writable by the app client.
resource "aws_cognito_user_pool" "customers" {
  name = "ledger-customers"
  dynamic "schema" {
    for_each = toset(["accounts", "tellers", "risk"])
    content {
      name                = schema.value
      attribute_data_type = "String"
      mutable             = true
      string_attribute_constraints {
        min_length = 1
        max_length = 2048
      }
    }
  }
}

resource "aws_cognito_user_pool_client" "app" {
  name             = "ledger-app"
  user_pool_id     = aws_cognito_user_pool.customers.id
  read_attributes  = ["custom:accounts", "custom:tellers", "custom:risk", "email"]
  write_attributes = ["email"]
}

module "ledger" {
  source        = "../.."
  name_prefix   = "ledger-prod"
  pattern       = 2
  lambda_zip    = var.lambda_zip
  kms_key_arn   = aws_kms_key.ledger.arn
  operator_arns = var.operator_arns
  tags          = { team = "payments", cost-center = "ledger" }

  tables = {
    details_deletion_protection = true
    summary_deletion_protection = true
    applied_deletion_protection = true
    point_in_time_recovery      = true
    summary_billing_mode        = "PROVISIONED"
    summary_read_capacity       = 10
    summary_write_capacity      = 20
  }
  api = {
    authorization          = "COGNITO"
    cognito_user_pool_arns = [aws_cognito_user_pool.customers.arn]
    cognito_grants         = { read = "custom:accounts", transfer = "custom:accounts", post = "custom:tellers", limits = "custom:risk" }
    allow_unauthenticated  = false
    stage_name             = "v1"
    throttle_rate          = 200
    throttle_burst         = 400
    log_retention_days     = 400
    # Access and execution logs need API Gateway's CloudWatch role, set once per account and region:
    # created here unless the account has it already.
    execution_log_level = "ERROR"
    access_log          = true
    create_logging_role = !var.apigateway_logging_role_exists
  }
  functions = {
    runtime              = "python3.12"
    architecture         = "arm64"
    memory_mb            = 512
    timeout_seconds      = 30
    reserved_concurrency = 20
    log_retention_days   = 400
    marker_ttl_days      = 15
    tracing              = true
  }
  stream = {
    batch_size                 = 100
    batching_window_seconds    = 1
    retry_attempts             = 10
    maximum_record_age_seconds = 3600
    parallelization_factor     = 1
    starting_position          = "TRIM_HORIZON"
  }
  buffer = {
    max_receive_count          = 23
    maximum_concurrency        = 2
    batch_size                 = 10
    batching_window_seconds    = 1
    visibility_timeout_seconds = 31
    message_retention_seconds  = 345600
    backoff_max_seconds        = 25
    writer_timeout_seconds     = 5
  }
  guard  = {} # then `ledger-ops guard init` once (docs/balance-guard.md)
  events = {} # balance events on a bus of their own; events.tf subscribes a queue
  alarms = {
    topic_arn          = null
    emails             = var.alarm_emails
    iterator_age_ms    = 60000
    queue_age_seconds  = 300
    api_latency_p99_ms = 1000
  }
}
