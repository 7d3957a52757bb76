"""API Gateway mapping templates rendered with AWS's semantics.

Built on LocalStack's renderer (``ApiGatewayVtlTemplate``: airspeed with
``$input``, ``$util`` and ``$context``), with five differences from it fixed
to behave as AWS does:

* ``$util.escapeJavaScript`` follows Java's ``StringEscapeUtils.escapeJavaScript``,
  which API Gateway uses: it escapes ``'`` as ``\\'`` (not valid inside JSON),
  ``/`` as ``\\/``, and every non-ASCII or control character as ``\\uXXXX``
  with upper-case hex, one escape per UTF-16 unit;
* ``$util.base64Decode`` returns a string, not bytes;
* ``$input.params(name)`` returns a plain string, so Java string methods such
  as ``matches`` work on it;
* ``String.indexOf`` answers -1 for a missing substring, as Java's does (airspeed raises);
* ``String.trim``, ``startsWith`` and ``endsWith`` exist, with Java's meaning.

Two caches keep the rendering fast without changing it: JSONPath expressions are
parsed once per expression text (``jsonpath_rw`` builds its PLY parse tables on every
``parse`` call), and templates are compiled once per template text. Both are keyed
by the text itself, so a redeployed template is a new key, never a stale entry.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import airspeed
import airspeed.operators
import jsonpath_rw
from localstack.services.apigateway.next_gen.execute_api import template_mapping
from localstack.services.apigateway.next_gen.execute_api.template_mapping import (
    ApiGatewayVtlTemplate,
    VelocityInput,
    VelocityUtilApiGateway,
)
from localstack.utils.aws import templating

# Java's Map has containsKey and keySet; API Gateway templates can call them on $input.path('$').
airspeed.operators.__additional_methods__[dict].setdefault("containsKey", lambda self, key: key in self)
airspeed.operators.__additional_methods__[dict].setdefault("keySet", list)
# Java's String.indexOf answers -1 for a missing substring; airspeed's raises (Python's str.index).
# https://docs.oracle.com/javase/8/docs/api/java/lang/String.html#indexOf-java.lang.String-int-
airspeed.operators.__additional_methods__[str]["indexOf"] = lambda self, text, start=0: self.find(text, start)
# Java's String.trim removes every leading and trailing character up to U+0020 (spaces and controls).
# https://docs.oracle.com/javase/8/docs/api/java/lang/String.html#trim--
_JAVA_TRIMMED = "".join(chr(code) for code in range(0x21))
airspeed.operators.__additional_methods__[str]["trim"] = lambda self: self.strip(_JAVA_TRIMMED)
# Java's String.startsWith and endsWith; airspeed knows neither, and an unknown method renders as null,
# so without these a template's #if($s.endsWith('0')) was silently false here and true on AWS.
# https://docs.oracle.com/javase/8/docs/api/java/lang/String.html#endsWith-java.lang.String-
airspeed.operators.__additional_methods__[str]["startsWith"] = lambda self, prefix: self.startswith(prefix)
airspeed.operators.__additional_methods__[str]["endsWith"] = lambda self, suffix: self.endswith(suffix)
# String.split is Python's here (airspeed calls a real attribute first). For a literal separator such as
# ',' it answers what Java's does, but for trailing empty strings, which Java drops.

parse_jsonpath = functools.lru_cache(maxsize=1024)(jsonpath_rw.parse)
setattr(template_mapping, "parse", parse_jsonpath)  # noqa: B010 - $input.path in LocalStack's VelocityInput


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> airspeed.Template:
    """A template compiled once; rendering never changes it, so one copy serves every thread."""
    template = airspeed.Template(text)
    template.ensure_compiled()
    return template


setattr(templating, "airspeed", SimpleNamespace(Template=_compiled))  # noqa: B010 - LocalStack's render_vtl

_SHORT_ESCAPES = {"\b": "\\b", "\n": "\\n", "\t": "\\t", "\f": "\\f", "\r": "\\r"}
_CHAR_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/"}


def escape_javascript(text: str) -> str:
    """Java's ``StringEscapeUtils.escapeJavaScript`` (commons-lang 2), as API Gateway applies it."""
    out: list[str] = []
    for unit in _utf16_units(text):
        char = chr(unit)
        if unit > 0x7F:
            out.append(f"\\u{unit:04X}")
        elif unit < 32:
            out.append(_SHORT_ESCAPES.get(char, f"\\u{unit:04X}"))
        else:
            out.append(_CHAR_ESCAPES.get(char, char))
    return "".join(out)


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


class AwsUtil(VelocityUtilApiGateway):
    """``$util`` as API Gateway implements it."""

    def escapeJavaScript(self, obj: Any) -> str:
        """Escape like Java; ``null`` renders as an empty string."""
        if obj is None:
            return ""
        if obj is True or obj is False:
            return str(obj).lower()
        return escape_javascript(str(obj))

    def base64Decode(self, s: Any) -> str:
        """Decode to a string (invalid UTF-8 becomes U+FFFD, as Java's String does)."""
        return base64.b64decode(str(s)).decode("utf-8", errors="replace")


class AwsInput(VelocityInput):
    """``$input`` whose ``params`` are plain strings."""

    def params(self, name: str | None = None) -> Any:
        """All parameters, or one by name from path, query string or header (empty string if absent)."""
        if not name:
            return self.parameters
        for kind in ("path", "querystring", "header"):
            value = (self.parameters.get(kind) or {}).get(name)
            if value:
                return str(value)
        return ""

    def json(self, path: str) -> str:
        """The JSON text at ``path``: ``null`` for a JSON null, empty when nothing is there."""
        try:
            document = json.loads(self.value) if isinstance(self.value, str) else self.value
        except json.JSONDecodeError:
            return ""
        matches = [m.value for m in parse_jsonpath(path or "$").find(document)] if document is not None else []
        if not matches:
            return ""
        value = matches[0] if len(matches) == 1 else matches
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class AwsTemplate(ApiGatewayVtlTemplate):
    """The renderer with AWS's ``$util`` and ``$input``."""

    def prepare_namespace(self, variables: Any, source: str = "APIGW") -> dict[str, Any]:
        """Namespace of one rendering."""
        namespace = super().prepare_namespace(variables, source)
        given = variables.get("input") or {}
        namespace["input"] = AwsInput(given.get("body"), given.get("params"))  # type: ignore[no-untyped-call]
        namespace["util"] = AwsUtil()
        return namespace


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
    variables = {
        "context": context,
        "input": {
            "body": request.body if integration_body is None else integration_body,
            "params": {"path": request.path, "querystring": request.querystring, "header": request.headers},
        },
        "stageVariables": request.stage_variables,
    }
    text = AwsTemplate().render_vtl(template=template.strip(), variables=variables)
    override = context["responseOverride"]
    status = int(override.get("status") or 0) or None
    return Rendered(str(text), status, dict(override.get("header") or {}), dict(context["requestOverride"]))
