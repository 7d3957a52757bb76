"""API Gateway mapping templates rendered as AWS renders them: by Apache Velocity 1.7 (``local_account.velocity``).

AWS documents Velocity as the engine of mapping templates, and ``$input``, ``$util`` and ``$context``
in its mapping-template reference; the renderer is Velocity itself, with those three written in Java
from that reference, so Java's semantics (UTF-16 string lengths, ``String.split``, ``java.util.regex``,
``#if`` truthiness) hold by construction. Templates are used as deployed: no text is rewritten before
parsing. https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .velocity import ENGINE


class RenderError(Exception):
    """The template could not be rendered (API Gateway answers 500: an internal server error)."""


@dataclass
class Request:
    """What a mapping template sees of a method request."""

    body: str = ""
    path: dict[str, str] = field(default_factory=dict)
    querystring: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    stage_variables: dict[str, str] = field(default_factory=dict)


@dataclass
class Rendered:
    """A rendered template and the overrides it set.

    ``request_override`` is ``$context.requestOverride`` as the template left it. API Gateway hands
    what a request template sets there on to the response template's ``$context`` (see
    ``carry_overrides``).
    """

    body: str
    status: int | None
    headers: dict[str, str]
    request_override: dict[str, Any] = field(default_factory=dict)


def carry_overrides(request: Request, rendered: Rendered) -> Request:
    """The request as the response template sees it: with the request template's ``requestOverride``.

    AWS keeps ``$context.requestOverride`` from the request template for the response template; LocalStack
    validated this against AWS when it added the same behaviour (localstack/localstack#11799).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html
    """
    context = {**request.context, "requestOverride": copy.deepcopy(rendered.request_override)}
    return dataclasses.replace(request, context=context)


def render(template: str, request: Request, integration_body: str | None = None) -> Rendered:
    """Render a request template, or a response template when ``integration_body`` is given."""
    context: dict[str, Any] = {
        "requestOverride": {"header": {}, "path": {}, "querystring": {}},
        "responseOverride": {"header": {}, "status": 0},
    }
    context.update(copy.deepcopy(request.context))
    answer = ENGINE.render(
        template,
        {
            "body": request.body if integration_body is None else integration_body,
            "params": {"path": request.path, "querystring": request.querystring, "header": request.headers},
            "context": context,
            "stageVariables": request.stage_variables,
        },
    )
    if "error" in answer:
        raise RenderError(answer["error"])
    context = answer["context"]
    override = context.get("responseOverride") or {}
    status = int(override.get("status") or 0) or None
    return Rendered(
        answer["body"], status, dict(override.get("header") or {}), dict(context.get("requestOverride") or {})
    )
