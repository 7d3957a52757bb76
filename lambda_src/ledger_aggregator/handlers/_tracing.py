"""X-Ray tracing that costs nothing when it is off.

Powertools' ``Tracer()`` imports the X-Ray SDK when it is constructed, even with tracing
disabled: about 95 ms of a cold start, more than the rest of the handler's imports. Here
the tracer is built only when ``POWERTOOLS_TRACE_DISABLED`` (Powertools' own switch, set
by Terraform from ``functions.tracing``) is not true; otherwise the handler is returned
unchanged and no X-Ray code is imported.

With tracing on, only botocore is patched: every AWS call the functions make goes through it,
and Powertools' default (the X-Ray SDK's ``patch_all``) would also import and patch libraries
these functions never call (sqlite3, http.client, requests and more), at every cold start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.shared.functions import strtobool

Handler = TypeVar("Handler", bound=Callable[..., Any])
PATCHED = ("botocore",)  # what X-Ray traces: the AWS SDK calls, the only outbound calls the functions make


def tracing_enabled() -> bool:
    """True unless ``POWERTOOLS_TRACE_DISABLED`` is true, read as Powertools reads it."""
    return not strtobool(os.environ.get("POWERTOOLS_TRACE_DISABLED", "false"))


def capture_lambda_handler(handler: Handler) -> Handler:
    """Powertools' ``Tracer.capture_lambda_handler`` when tracing is on; the handler itself when off."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - imported only when tracing is on

    return Tracer(patch_modules=PATCHED).capture_lambda_handler(handler)  # type: ignore[return-value]
