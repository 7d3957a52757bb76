"""Who signed a request, as a resource policy sees it, and the resource policies held at apply and run time.

``aws:PrincipalArn`` is the ARN of the principal that made the request: for an IAM user its ARN, for a
session of an assumed role the role's ARN, path included, not the session's ``sts`` ARN
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
The local account knows the principals its own IAM and STS issued keys to: an IAM user's access key, and
the credentials of a role assumed through STS. Other keys (``local``/``local``, the functions' own) are
not looked up here.

Held here: a queue policy's statements for SendMessage from such a principal
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-using-identity-based-policies.html),
and a KMS key's policy when CloudWatch Logs is asked to encrypt a log group with the key
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID

from . import iam

ACCOUNT = DEFAULT_ACCOUNT_ID
_KEY = re.compile(r"Credential=([^/]+)/")
# What CloudWatch Logs does with a log group's key: one action of each kind its page grants.
LOGS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey")
KEY_REFUSED = "The specified KMS key does not exist or is not allowed to be used with Arn '{}'"


def principal_arn(authorization: str) -> str | None:
    """``aws:PrincipalArn`` of a request signed with a key the local IAM or STS issued; None for others."""
    from moto.iam.models import iam_backends  # noqa: PLC0415 - moto's models load with the local account
    from moto.sts.models import sts_backends  # noqa: PLC0415

    match = _KEY.search(authorization)
    if not match:
        return None
    key = match.group(1)
    assumed = sts_backends[ACCOUNT]["global"].get_assumed_role_from_access_key(key)
    if assumed is not None:
        return str(assumed.role_arn)
    user = iam_backends[ACCOUNT]["global"].get_user_from_access_key_id(key)
    return str(user.arn) if user is not None else None


def queue_refusal(principal: str, action: str, queue_arn: str) -> str | None:
    """Why the queue's policy refuses ``principal`` the action, or None when it does not deny it."""
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    region, name = queue_arn.split(":")[3], queue_arn.rpartition(":")[2]
    queue = sqs_backends[ACCOUNT][region].queues.get(name)
    policy = getattr(queue, "policy", None)
    if not policy:
        return None
    # The local endpoint stands in for AWS's HTTPS one: the SDKs' requests are sent over TLS.
    context = {"aws:PrincipalArn": principal, "aws:SecureTransport": "true", "aws:PrincipalAccount": ACCOUNT}
    if iam.decision([policy], ("AWS", principal), action, context) != "deny":
        return None
    denied = "with an explicit deny in a resource-based policy"
    return f"is not authorized to perform: {action} on resource: {queue_arn} {denied}"


def logs_may_use_key(key_id: str, region: str, group_arn: str) -> bool:
    """Whether a KMS key exists and its policy lets CloudWatch Logs (``logs.<region>.amazonaws.com``) use it
    for the log group (its ARN as encryption context)."""
    from moto.kms.exceptions import NotFoundException  # noqa: PLC0415
    from moto.kms.models import kms_backends  # noqa: PLC0415

    try:
        key = kms_backends[ACCOUNT][region].describe_key(key_id)
    except (KeyError, NotFoundException):  # a missing key, by id, alias or ARN
        return False
    # The context its page documents; a key policy conditioned on other keys is not taken to allow.
    context = {"kms:EncryptionContext:aws:logs:arn": group_arn}
    service = ("Service", f"logs.{region}.amazonaws.com")
    return all(iam.decision([key.policy], service, action, context) == "allow" for action in LOGS_KEY_ACTIONS)


def log_group_arn(region: str, name: str) -> str:
    """A log group's ARN as CloudWatch Logs names it in its refusal (no trailing ``:*``)."""
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"


def key_refused(group: str) -> Any:
    """CloudWatch Logs' refusal of a key it may not use for the log group."""
    from moto.logs.exceptions import LogsClientError  # noqa: PLC0415

    return LogsClientError("AccessDeniedException", KEY_REFUSED.format(group))
