"""What one request may cost the worker: body size, and turns at the heavy operations.

The body limit is a pure ASGI middleware, so that it refuses before anything reads the
body (authentication included) and counts what a client streams without a
``Content-Length``. Refusals have their route family's form: an ``OperationOutcome`` under
``/fhir``, ``{code, message}`` elsewhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.outcome import FHIR_JSON, operation_outcome
from api.problems import ThrottledError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLargeError(Exception):
    """Raised inside ``receive`` when a streamed body passes the limit."""


def _refusal(path: str, limit: int) -> tuple[int, bytes, bytes]:
    text = f"the request body is larger than {limit} bytes, the most this server reads"
    if path.startswith("/fhir"):
        return 413, json.dumps(operation_outcome("too-long", text)).encode(), FHIR_JSON.encode()
    return 413, json.dumps({"code": "too-large", "message": text}).encode(), b"application/json"


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not refused:
                    if not started:  # answer now: the app's own error handlers must not
                        await self._refuse(scope, send)
                        refused = True
                    raise BodyTooLargeError
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 is out; whatever the app answers after it is dropped
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, send: Send) -> None:
        status, body, media_type = _refusal(scope.get("path", ""), self.max_bytes)
        headers = [(b"content-type", media_type), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]  # fmt: skip
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class HeavyGate:
    """At most ``slots`` heavy operations run at once in a worker; a request waits for its
    turn no longer than its time budget, then is refused (503, ``throttled``), so that
    heavy requests never pile up on the threads that light ones need."""

    def __init__(self, slots: int, *, seconds: float) -> None:
        self.seconds = seconds
        self._slots = threading.BoundedSemaphore(slots)

    def run(self, work: Callable[[float], Any]) -> Any:
        """``work(deadline)`` in a slot; ``deadline`` is the ``time.monotonic()`` instant at
        which the request's time budget (its wait included) runs out."""
        deadline = time.monotonic() + self.seconds
        if not self._slots.acquire(timeout=self.seconds):
            raise ThrottledError(
                f"the server's heavy operations stayed busy for {self.seconds:g} s; try again later"
            )
        try:
            return work(deadline)
        finally:
            self._slots.release()


SAFETY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"))


class SafetyHeaders:
    """Every answer says: do not guess my type, do not frame me. Answers under ``/api``
    (a project's rows, its curators' decisions and comments) also say ``no-store``: a shared
    proxy or the browser's disk cache must never keep them after a role is revoked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        private = str(scope.get("path", "")).startswith("/api")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *(
                        header
                        for header in message.get("headers", [])
                        if not private or header[0].lower() != b"cache-control"
                    ),
                    *((name, value) for name, value in SAFETY_HEADERS if name not in present),
                    *([(b"cache-control", b"no-store")] if private else []),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
