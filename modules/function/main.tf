# One of the project's Lambda functions: the function (from the zip build.py made), its log group with
# retention, and its role with the caller's policy plus logs and X-Ray.

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.functions.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function reaches only DynamoDB and SQS endpoints; no VPC resource to protect.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile, which platform teams attach themselves.
  #checkov:skip=CKV_AWS_116:Event-source mapped; failures go to the mapping's on-failure destination or the queue's DLQ.
  #checkov:skip=CKV_AWS_50:Active tracing is the default (functions.tracing, asserted by terraform test); checkov cannot resolve it through the counted buffer module.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (functions.reserved_concurrency); the SQS mapping caps concurrency.
  function_name                  = var.name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  handler                        = var.handler
  runtime                        = var.functions.runtime
  architectures                  = [var.functions.architecture]
  memory_size                    = var.functions.memory_mb
  timeout                        = var.functions.timeout_seconds
  reserved_concurrent_executions = var.functions.reserved_concurrency
  filename                       = var.package.path
  source_code_hash               = var.package.sha256
  kms_key_arn                    = var.kms_key_arn

  environment {
    # Powertools' own switch: with tracing off the handlers construct no Tracer and import no X-Ray code.
    variables = merge(var.environment, {
      MARKER_TTL_SECONDS        = tostring(var.functions.marker_ttl_days * 86400)
      POWERTOOLS_TRACE_DISABLED = tostring(!var.functions.tracing)
    })
  }
  tracing_config {
    mode = var.functions.tracing ? "Active" : "PassThrough"
  }
  tags = var.tags
  # The log group exists before the function so that Lambda never creates one without retention.
  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}
