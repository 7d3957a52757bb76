"""One HTTP exchange over a kept-alive connection, as SDK clients do it.

A connection kept alive may have been closed by the server since its last use; the request
then fails before an answer, and is sent once more on a fresh connection.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Answer:
    """Status, body text and headers of one HTTP answer, and the connection that carried it."""

    status: int
    text: str
    headers: dict[str, str]
    connection: http.client.HTTPConnection


def exchange(
    connection_for: Callable[[bool], http.client.HTTPConnection],
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> Answer:
    """Send one request on ``connection_for(False)``; on a closed connection, once more on ``connection_for(True)``."""
    for fresh in (False, True):
        connection = connection_for(fresh)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return Answer(answer.status, answer.read().decode(), dict(answer.getheaders()), connection)
        except (http.client.HTTPException, ConnectionError):
            connection.close()
            if fresh:
                raise
    raise AssertionError("unreachable")
