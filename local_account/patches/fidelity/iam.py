"""Fidelity patches of IAM: callers held to the policies AWS holds them to.

* A function's calls are held to its execution role: the runtime signs them with a key of the
  function's own, and what the role's policies do not allow is refused with AccessDeniedException, as
  on AWS (``local_account.execution_roles``); moto allowed everything.
* A send to a queue whose policy denies the sender is refused, as on AWS (``local_account.principals``),
  so that a first apply or a run that would fail in a real account fails locally.
"""

from __future__ import annotations

import io
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ... import execution_roles, principals
from ...patching import Patcher


def call_of(environ: dict[str, Any], service: str, region: str) -> execution_roles.Call:
    """The signed request a WSGI environ carries, its body read and put back for moto."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    method, path, target = environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("HTTP_X_AMZ_TARGET", "")
    return execution_roles.Call(service, region, method, path, target, body)


def execution_roles_enforced(patcher: Patcher) -> None:
    """A function's calls are held to its execution role (``local_account.execution_roles``)."""
    dispatcher = DomainDispatcherApplication
    serve = dispatcher.__call__

    def checked(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        signer = execution_roles.caller(environ.get("HTTP_AUTHORIZATION", ""))
        if signer is None:
            return serve(self, environ, start_response)
        function, region, service = signer
        call = call_of(environ, service, region)
        role, policies = execution_roles.role_policies(function, region)
        why = execution_roles.refusal(policies, call)
        if why is None:
            return serve(self, environ, start_response)
        message = f"User: {role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/{function} {why}"
        status, headers, answer = execution_roles.denied_answer(service, message)
        start_response(f"{status} {'Forbidden' if status == 403 else 'Bad Request'}", headers)
        return [answer]

    patcher.replace(dispatcher, "__call__", checked)


_SENDS = ("sqs:SendMessage",)  # SendMessageBatch needs sqs:SendMessage (execution_roles)


def queue_policies_held(patcher: Patcher) -> None:
    """SendMessage from a principal the local IAM or STS knows is held to the queue's policy, with
    aws:PrincipalArn as IAM documents it (``local_account.principals``)."""
    dispatcher = DomainDispatcherApplication
    serve = dispatcher.__call__

    def checked(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        scope = execution_roles.scope(authorization)
        principal = principals.principal_arn(authorization) if scope and scope[2] == "sqs" else None
        if principal is None or scope is None:
            return serve(self, environ, start_response)
        try:
            needed = execution_roles.needed(call_of(environ, "sqs", scope[1]))
        except execution_roles.UnmodelledCallError:
            return serve(self, environ, start_response)
        for action, queue in needed:
            why = principals.queue_refusal(principal, action, queue) if action in _SENDS else None
            if why is not None:
                status, headers, answer = execution_roles.denied_answer("sqs", f"User: {principal} {why}")
                start_response(f"{status} Bad Request", headers)
                return [answer]
        return serve(self, environ, start_response)

    patcher.replace(dispatcher, "__call__", checked)
