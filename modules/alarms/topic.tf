# With no topic given, the alarms notify one created here, so that a stack deployed with defaults can page
# someone (subscribe to the topic_arn output, or set email). The topic is encrypted with a key of its own:
# CloudWatch cannot publish to a topic encrypted with the AWS managed key (aws/sns), whose policy does not
# let it use the key (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  create_topic = var.alarms.topic_arn == null
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:A key policy's resource is the key itself; its writes are the key's own administration.
  #checkov:skip=CKV_AWS_356:A key policy's resource is the key itself ("*" names no other resource).
  #checkov:skip=CKV_AWS_109:A key policy's resource is the key itself; PutKeyPolicy stays with the account, as AWS requires.
  count = local.create_topic ? 1 : 0
  statement {
    sid = "AccountAdministersTheKey"
    actions = [
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:ListResourceTags", "kms:TagResource",
      "kms:UntagResource", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    ]
    resources = ["*"] # a key policy's resource is the key itself
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }
  statement {
    sid       = "CloudWatchEncryptsAlarmNotifications"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"] # a key policy's resource is the key itself
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "topic" {
  count               = local.create_topic ? 1 : 0
  description         = "${var.name_prefix} alarm notifications (SNS topic encryption)."
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key[0].json
  tags                = var.tags
}

resource "aws_sns_topic" "this" {
  count             = local.create_topic ? 1 : 0
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.topic[0].arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  count = local.create_topic ? 1 : 0
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this[0].arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  count  = local.create_topic ? 1 : 0
  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarms.emails)
  topic_arn = local.topic_arn
  protocol  = "email"
  endpoint  = each.value
}
