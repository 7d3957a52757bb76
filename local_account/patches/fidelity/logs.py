"""Fidelity patches of CloudWatch Logs: a log group's KMS key checked as AWS checks it.

* A log group encrypted with a KMS key whose policy does not let CloudWatch Logs use it is refused, as AWS
  refuses it at apply time (``local_account.principals``), so that a first apply that would fail in a
  fresh account fails locally.
"""

from __future__ import annotations

from typing import Any

import moto.logs.models as logs_models

from ... import principals
from ...patching import Patcher


def log_group_keys_checked(patcher: Patcher) -> None:
    """CreateLogGroup with a KMS key that CloudWatch Logs may not use is refused, as on AWS."""
    backend = logs_models.LogsBackend
    create = backend.create_log_group

    def checked(self: Any, log_group_name: str, tags: Any, **kwargs: Any) -> Any:
        key = kwargs.get("kmsKeyId")
        group = principals.log_group_arn(self.region_name, log_group_name)
        if key and not principals.logs_may_use_key(key, self.region_name, group):
            raise principals.key_refused(group)
        return create(self, log_group_name, tags, **kwargs)

    patcher.replace(backend, "create_log_group", checked)
