"""A hostile vendor on loopback: an EvoLink-dialect API that misbehaves as a compromised account, a buggy
gateway, a hostile CDN redirect or a man-in-the-middle can.

Real sockets, real HTTP (``ThreadingHTTPServer`` in a thread), loopback only, every answer bounded in size
and time so a test always ends. A test scripts it per path: ``routes[path] = Answer(...)``, or a callable
returning one; ``seen`` lists every request (method, path, headers) it received.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The start of a real MP4: a 24-byte ``ftyp`` box (what the provider's check looks for), then filler.
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def mp4(size: int) -> bytes:
    return MP4_HEAD + b"\x00" * max(0, size - len(MP4_HEAD))


@dataclass
class Answer:
    status: int = 200
    body: bytes | Callable[[], Iterator[bytes]] = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait between chunks of a streamed body (a drip).
    drip: float = 0.0
    #: Send a Content-Length (for bytes bodies); False streams chunked with no length.
    length: bool = True

    @classmethod
    def json(cls, value: Any, status: int = 200, **kwargs: Any) -> Answer:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json"}, **kwargs)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        self.server.seen.append((self.command, path, dict(self.headers)))
        route = self.server.routes.get(path)
        answer = route() if callable(route) else route
        if answer is None:
            answer = Answer.json({"error": {"message": "no such route"}}, 404)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if "Content-Length" in answer.headers and isinstance(answer.body, bytes):  # a length that lies
            self.end_headers()
            self.wfile.write(answer.body)
            self.close_connection = True
            return
        if isinstance(answer.body, bytes) and answer.length:
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks = [answer.body] if isinstance(answer.body, bytes) else answer.body()
        try:
            for chunk in chunks:
                if self.server.stopping.is_set():
                    break
                if chunk:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                if answer.drip:
                    time.sleep(answer.drip)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    do_GET = do_POST = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up on a hostile answer is the point, not an error

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Answer | Callable[[], Answer]] = {}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.stopping = threading.Event()


class HostileServer:
    """One loopback HTTP server; ``url`` is its origin."""

    def __init__(self) -> None:
        self._server = _Server()
        self.routes = self._server.routes
        self.seen = self._server.seen
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.seen]


def task(task_id: str, status: str = "completed", **fields: Any) -> dict[str, Any]:
    """An EvoLink task object."""
    return {
        "id": task_id,
        "object": "video.generation.task",
        "model": "seedance-2.0-fast-text-to-video",
        "status": status,
        "progress": 100 if status == "completed" else 10,
        **fields,
    }
