"""Fidelity patches of SQS: its attributes' JSON as AWS returns it.

* SQS returns ``RedrivePolicy`` as compact JSON, as AWS does (moto adds spaces, which the AWS provider
  reads as a change on every plan).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import moto.sqs.models as sqs_models

from ...patching import Patcher


def compact_json_for_sqs(patcher: Patcher) -> None:
    """SQS writes its attributes' JSON (``RedrivePolicy``) without spaces, as AWS returns it."""
    compact = SimpleNamespace(
        dumps=lambda obj, **kw: json.dumps(obj, **{"separators": (",", ":"), **kw}),
        loads=json.loads,
        JSONDecodeError=json.JSONDecodeError,
    )
    patcher.replace(sqs_models, "json", compact)
