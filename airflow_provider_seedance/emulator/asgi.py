"""Outer ASGI layer: classifies each request (dialect, kind), applies the injected fault (HTTP error,
slow, dropped or reset connection, malformed body, lost create answer, truncated download); logs it."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .dialects import ERROR_RESPONDERS
from .faults import SCOPES, Fault
from .files import cdn_error
from .runtime import CTX_KEY, Emulator

_MODELARK_RE = re.compile(r"^(?:/api/v3)?/contents/generations/tasks(/[^/]+)?/?$")
_MESSAGES = {
    429: "Too many requests, please try again later",
    500: "Internal server error",
    503: "Service temporarily unavailable",
}
_BAD_GATEWAY = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>\n"
)
_MALFORMED_JSON = b'{"id": "task-unified-1761313744-vux2jw0k", "status": "processing", "progress": 4'
_MALFORMED_HTML = b"<html><body><h1>Service temporarily unavailable</h1></body></html>\n"


def classify(method: str, path: str) -> tuple[str | None, str]:
    """(dialect, kind) of a request; kind is create|poll|cancel|list|download|control|other."""
    if path.startswith("/_emulator"):
        return "control", "control"
    if path == "/v1/videos/generations":
        return "evolink", "create" if method == "POST" else "other"
    if path.startswith("/v1/tasks/"):
        return "evolink", "poll" if method == "GET" else "other"
    if path == "/v2/video/generations":
        return "aimlapi", {"POST": "create", "GET": "poll"}.get(method, "other")
    match = _MODELARK_RE.match(path)
    if match is not None:
        key = (method, match.group(1) is not None)
        kinds = {("POST", False): "create", ("GET", False): "list", ("GET", True): "poll", ("DELETE", True): "cancel"}
        return "modelark", kinds.get(key, "other")
    if path.startswith("/files/"):
        return "files", "download" if method in ("GET", "HEAD") else "other"
    return None, "other"


def fault_response(dialect: str | None, status: int, path: str, retry_after: float) -> Response:
    """The error a flaky vendor/gateway would answer, in the dialect's format."""
    headers = {"retry-after": str(round(retry_after))} if status in (429, 502, 503) else {}
    message = _MESSAGES.get(status, f"Injected error {status}")
    if status == 502:
        return Response(_BAD_GATEWAY, status_code=502, media_type="text/html", headers=headers)
    responder = ERROR_RESPONDERS.get(dialect or "")
    if responder is not None:
        return responder(status, message, path=path, headers=headers)
    if dialect == "files":
        return cdn_error(status, "ServiceUnavailable" if status >= 500 else "SlowDown", message, headers)
    return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)


async def drain(receive: Receive) -> None:
    """Read the whole request body (closing a socket with unread input would send a RST, not a FIN)."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def drop_connection(send: Send, reset: bool = False) -> bool:
    """Close (FIN) or abort (RST) the client connection without more response bytes; False if the
    server does not expose its transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends a RST instead of a FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    for attempt in range(200):  # let the server notice, so it does not answer a 500 itself
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0 if attempt < 5 else 0.005)
    return True


def logging_send(ctx: dict[str, Any], method: str, send: Send) -> Send:
    """Wrap ``send`` to note the response status in ``ctx`` and call ``ctx["log"]`` as the response ends."""

    async def tracking_send(message: Message) -> None:
        # Log before the client can have the whole response (and ask for stats): at the last
        # body message, or at the chunk that completes Content-Length, whichever comes first.
        if message["type"] == "http.response.start":
            ctx["status"] = message["status"]
            length = dict(message.get("headers", [])).get(b"content-length")
            ctx["remaining"] = int(length) if length and method != "HEAD" else None
        elif message["type"] == "http.response.body":
            remaining = ctx.get("remaining")
            if remaining is not None:
                remaining = ctx["remaining"] = remaining - len(message.get("body", b""))
            if not message.get("more_body", False) or (remaining is not None and remaining <= 0):
                ctx["log"]()
        await send(message)

    return tracking_send


class _Cut(OSError):
    """Raised into the app once a truncated download has been cut off."""


class EmulatorMiddleware:
    """Wraps the Starlette app; must be the outermost ASGI callable (drop needs the server's send)."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        dialect, kind = classify(method, path)
        if dialect == "control":
            await self.app(scope, receive, send)
            return
        ctx: dict[str, Any] = {"task_id": None, "idempotency_replayed": False, "status": None, "pending": True}
        scope[CTX_KEY] = ctx
        fault = self.emulator.faults.draw(kind) if kind in SCOPES else None
        log = self._request_logger(scope, ctx, dialect, kind, fault)
        ctx["log"] = log
        tracking_send = logging_send(ctx, method, send)
        try:
            await self._dispatch(scope, receive, send, tracking_send, dialect, fault)
        finally:
            log()

    def _request_logger(
        self, scope: Scope, ctx: dict[str, Any], dialect: str | None, kind: str, fault: Fault | None
    ) -> Callable[[], None]:
        """A callable that records this request in the store once (later calls do nothing)."""
        method, path = scope["method"], scope["path"]
        started = time.time()

        def log() -> None:
            if ctx.pop("pending", False):
                self.emulator.store.record(
                    {
                        "method": method,
                        "path": path,
                        "query": scope.get("query_string", b"").decode("latin-1"),
                        "dialect": dialect,
                        "kind": kind,
                        "status": ctx["status"],
                        "task_id": ctx["task_id"],
                        "idempotency_replayed": ctx["idempotency_replayed"],
                        "fault": fault.name if fault else None,
                        "ts": started,
                        "duration_ms": round((time.time() - started) * 1000, 3),
                    }
                )

        return log

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, tracking_send: Send, dialect: str | None, fault: Fault | None
    ) -> None:
        if fault is None:
            await self.app(scope, receive, tracking_send)
        elif fault.status is not None:
            response = fault_response(dialect, fault.status, scope["path"], fault.retry_after)
            await response(scope, receive, tracking_send)
        elif fault.name == "slow":
            await asyncio.sleep(fault.slow_seconds)
            await self.app(scope, receive, tracking_send)
        elif fault.name in ("drop", "reset"):
            await drain(receive)
            scope[CTX_KEY]["log"]()  # logged before the client can observe the drop
            if not await drop_connection(send, reset=fault.name == "reset"):
                raise RuntimeError(f"injected fault: {fault.name}")
        elif fault.name == "malformed":
            body, media = (
                (_MALFORMED_HTML, "text/html") if dialect == "files" else (_MALFORMED_JSON, "application/json")
            )
            await Response(body, status_code=200, media_type=media)(scope, receive, tracking_send)
        elif fault.name == "500_after_create":
            await self._lose_answer(scope, receive, tracking_send, dialect)
        else:
            await self._truncate(scope, receive, send, tracking_send)

    async def _lose_answer(self, scope: Scope, receive: Receive, send: Send, dialect: str | None) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if held and 200 <= held[0].get("status", 500) < 300:
            response = fault_response(dialect, 500, scope["path"], 0)
            await response(scope, receive, send)
            return
        for message in held:
            await send(message)

    async def _truncate(self, scope: Scope, receive: Receive, raw_send: Send, send: Send) -> None:
        state = {"limit": -1, "sent": 0, "cut": 0}

        async def cutting_send(message: Message) -> None:
            if state["cut"]:
                raise _Cut("download truncated by the emulator")
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                length = headers.get(b"content-length")
                if message["status"] in (200, 206) and length and scope["method"] == "GET":
                    state["limit"] = int(length) // 2
            elif message["type"] == "http.response.body" and state["limit"] >= 0:
                body = message.get("body", b"")
                room = state["limit"] - state["sent"]
                if len(body) >= room:
                    await send({"type": "http.response.body", "body": body[:room], "more_body": True})
                    state["cut"] = 1
                    scope[CTX_KEY]["log"]()
                    await drop_connection(raw_send)
                    return
                state["sent"] += len(body)
            await send(message)

        try:
            await self.app(scope, receive, cutting_send)
        except Exception:
            if not state["cut"]:
                raise
