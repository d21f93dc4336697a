"""Server configuration and the shared runtime state (store, faults, media cache, link
signing, authentication) that every route handler reaches through ``request.app.state``."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from .common import ApiError
from .declared import DeclaredModels, ModelLimits, parse_models
from .faults import FaultInjector
from .store import Clock, Task, TaskStore
from .video import MediaCache

CTX_KEY = "emulator.ctx"
SUCCESS_WORDS = ("completed", "succeeded")


@dataclass
class EmulatorConfig:
    """Options of one emulator run (all optional)."""

    api_key: str | None = None
    render_seconds: float = 6.0
    link_ttl_seconds: float = 86400.0
    faults: dict[str, Any] | None = None
    seed: int | None = None
    aiml_success_word: str = "completed"
    clock: Clock = time.monotonic
    cache_bytes: int = 256 * 1024 * 1024
    public_url: str | None = None
    #: Serve one stock clip per (aspect ratio, duration, audio) instead of encoding a clip per generation (its
    #: frames show no prompt or task id). For benchmarks of saving at scale: encoding each clip on demand is the
    #: emulator's CPU, not a vendor's CDN serving files it already holds.
    stock_media: bool = False
    signing_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: Models the vendors do not serve yet, declared as for the provider (``[seedance] models``: JSON text or an
    #: object of model id -> limits, or a connection's extra ``{"models": {...}}``); see ``declared.py``.
    models: Mapping[str, Any] | str | DeclaredModels | None = None
    declared: DeclaredModels = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.declared = parse_models(self.models)  # a bad declaration: ValueError naming the model and key
        if self.aiml_success_word not in SUCCESS_WORDS:
            raise ValueError(f"aiml_success_word must be one of {SUCCESS_WORDS}")
        if self.render_seconds < 0 or self.link_ttl_seconds < 0:
            raise ValueError("render_seconds and link_ttl_seconds must be >= 0")


class Emulator:
    """Runtime state shared by all routes of one app."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = TaskStore(config.clock, config.render_seconds)
        self.faults = FaultInjector(config.faults or {}, config.seed)
        self.cache = MediaCache(config.cache_bytes)

    def reset(self) -> None:
        """Forget tasks, the request log, counters, idempotency keys, faults and cached media."""
        self.store.reset()
        self.faults.configure({})
        self.cache.clear()

    def declared(self, backend: str) -> Mapping[str, ModelLimits]:
        """The declared models the ``backend`` dialect serves, by id (they override its built-in rules)."""
        return self.config.declared.on(backend)

    def authenticate(self, request: Request) -> str:
        """Return the bearer token or raise a 401 (messages never echo the key)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Missing or malformed Authorization header; expected 'Bearer <API key>'")
        expected = self.config.api_key
        if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
            raise ApiError(401, "Invalid or expired API key")
        return token

    @staticmethod
    async def json_body(request: Request) -> dict[str, Any]:
        """The request body as a JSON object, or a 400."""
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "Request body must be valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return body

    @staticmethod
    def set_ctx(request: Request, **values: Any) -> None:
        """Annotate the current request's log entry (task_id, idempotency_replayed)."""
        ctx = request.scope.get(CTX_KEY)
        if isinstance(ctx, dict):
            ctx.update(values)

    def root_url(self, request: Request) -> str:
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    def sign(self, name: str, expires: int) -> str:
        message = f"{name}:{expires}".encode()
        return hmac.new(self.config.signing_secret, message, hashlib.sha256).hexdigest()[:32]

    def signature_ok(self, name: str, expires: int, sig: str) -> bool:
        return hmac.compare_digest(self.sign(name, expires), sig)

    def file_url(self, request: Request, task: Task, finished_unix: int, suffix: str = ".mp4") -> str:
        """A signed, expiring result link like a CDN's (valid link_ttl_seconds after completion)."""
        name = f"{task.id}{suffix}"
        expires = int(finished_unix + self.config.link_ttl_seconds)
        query = urlencode({"expires": expires, "sig": self.sign(name, expires)})
        return f"{self.root_url(request)}/files/{name}?{query}"


def emulator_of(request: Request) -> Emulator:
    """The Emulator behind the app serving this request."""
    emu = request.app.state.emulator
    assert isinstance(emu, Emulator)
    return emu


def new_token(length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def fingerprint(body: dict[str, Any]) -> str:
    """Stable hash of a JSON body (key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
