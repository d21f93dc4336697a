"""Command line: ``seedance-emulator`` / ``python -m airflow_provider_seedance.emulator``; binds the
port first (exit status 2 with a one-line message if taken), prints the URL (first line), the base URL of
each backend and a connection ready to copy, then serves."""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from .declared import DeclaredModels, parse_models
from .faults import FaultConfigError, FaultInjector
from .runtime import SUCCESS_WORDS, EmulatorConfig

PROG = "seedance-emulator"
#: Airflow's ``[seedance] models`` option as an environment variable: the emulator's --models when not given.
MODELS_ENV = "AIRFLOW__SEEDANCE__MODELS"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Local emulator of the EvoLink, AIML API and "
        "BytePlus ModelArk Seedance video-generation APIs (one port).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--api-key", default=None, help="accept only this bearer key (None: any non-empty key)")
    parser.add_argument("--render-seconds", type=float, default=6.0, help="simulated render time per task")
    parser.add_argument("--link-ttl", type=float, default=86400.0, help="validity of result links, seconds")
    parser.add_argument("--faults", default=None, help="fault config as JSON, or @path/to/file.json")
    parser.add_argument("--seed", type=int, default=None, help="seed for deterministic fault injection")
    parser.add_argument(
        "--models",
        default=None,
        help="models to serve beyond the built-in ones, declared as for the provider: JSON of model id -> "
        'limits (or a connection\'s extra {"models": {...}}), or @path/to/file.json; a bad declaration stops '
        f"the start. Not given: the environment variable {MODELS_ENV} ([seedance] models), so one setting "
        "declares them to Airflow and the emulator",
    )
    parser.add_argument(
        "--aiml-success-word",
        choices=SUCCESS_WORDS,
        default="completed",
        help="AIML API status word for finished generations",
    )
    add_serving_arguments(parser)
    return parser


def add_serving_arguments(parser: argparse.ArgumentParser) -> None:
    """How it serves: HTTPS, the root of result links, the media it serves, uvicorn's log level."""
    parser.add_argument("--ssl-certfile", default=None, help="serve HTTPS with this certificate")
    parser.add_argument("--ssl-keyfile", default=None, help="private key for --ssl-certfile")
    parser.add_argument("--public-url", default=None, help="root URL used in result links (behind a proxy)")
    parser.add_argument(
        "--stock-media",
        action="store_true",
        help="serve one stock clip per aspect ratio, duration and audio instead of encoding one per generation "
        "(for benchmarks of saving at scale; the frames show no prompt)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        help="uvicorn's log level",
    )


def startup_lines(root: str, api_key: str | None) -> list[str]:
    """What to point a connection at: each backend's base URL and one connection ready to copy."""
    key = "<the --api-key value>" if api_key else "any-key"  # a key is never printed, not even a test one
    lines = []
    for backend in ("evolink", "aimlapi", "modelark"):
        base = root + "/api/v3" if backend == "modelark" else root
        conn = {"conn_type": "seedance", "password": key, "host": base, "extra": {"backend": backend}}
        lines.append(f"  {backend:<9} Base URL {base}")
        lines.append(f"            export AIRFLOW_CONN_SEEDANCE_DEFAULT='{json.dumps(conn)}'")
    return ["Point a connection of type seedance at it (one per backend):", *lines]


def load_faults(value: str | None) -> dict[str, Any] | None:
    """Parse --faults (inline JSON or @file) and check it."""
    if not value:
        return None
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    config = json.loads(text)
    if not isinstance(config, dict):
        raise FaultConfigError("--faults must be a JSON object")
    FaultInjector(config)
    return config


def load_models(value: str | None, environ: dict[str, str] | None = None) -> DeclaredModels:
    """Parse --models (inline JSON or @file), else $AIRFLOW__SEEDANCE__MODELS read as Airflow reads it."""
    if value is None:
        text = (os.environ if environ is None else environ).get(MODELS_ENV, "")
        return parse_models(text, "[seedance] models", wrapper=False)  # the very message the provider gives
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    return parse_models(text, "--models")


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket now so that a taken port is reported before anything starts.

    The protocol must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets
    whose proto is IPPROTO_TCP, and without it every keep-alive request waits ~40 ms (Nagle + delayed ACK).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    return 2


class _StartError(Exception):
    """A start-up problem reported as one line on stderr with exit status 2."""


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Check --faults and the TLS pair and build the emulator's configuration."""
    try:
        faults = load_faults(args.faults)
    except (OSError, ValueError) as exc:
        raise _StartError(f"invalid --faults: {exc}") from exc
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise _StartError("--ssl-certfile and --ssl-keyfile go together")
    try:
        models = load_models(args.models)
    except OSError as exc:
        raise _StartError(f"invalid --models: {exc}") from exc
    except ValueError as exc:  # names the source, the model and the key
        raise _StartError(str(exc)) from exc
    try:
        return EmulatorConfig(
            api_key=args.api_key,
            render_seconds=args.render_seconds,
            link_ttl_seconds=args.link_ttl,
            faults=faults,
            seed=args.seed,
            aiml_success_word=args.aiml_success_word,
            public_url=args.public_url,
            models=models,
            stock_media=args.stock_media,
        )
    except ValueError as exc:
        raise _StartError(str(exc)) from exc


def listen(host: str, port: int) -> socket.socket:
    """bind_socket, with a taken port or another bind failure as a _StartError."""
    try:
        return bind_socket(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _StartError(f"port {port} on {host} is already in use; pass --port") from exc
        raise _StartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def root_url(host: str, port: int, tls: bool) -> str:
    """The URL the emulator answers on (an IPv6 host in brackets)."""
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def serve(args: argparse.Namespace, config: EmulatorConfig, sock: socket.socket) -> None:
    """Print the URL (first line) and the start-up lines, then run uvicorn on the bound socket."""
    import uvicorn

    from .app import create_app

    root = root_url(args.host, sock.getsockname()[1], bool(args.ssl_certfile))
    print(f"{PROG} listening on {root}", flush=True)
    print("\n".join(startup_lines(args.public_url or root, args.api_key)), flush=True)
    source = "--models" if args.models is not None else MODELS_ENV
    for backend, models in config.declared.by_backend.items():
        if models:
            print(f"Declared models ({source}) on {backend}: {', '.join(models)}", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            log_level=args.log_level,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            lifespan="off",
            interface="asgi3",
            loop="auto",
            timeout_graceful_shutdown=2,
            access_log=args.log_level in ("info", "debug", "trace"),
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        sock = listen(args.host, args.port)
    except _StartError as exc:
        return _fail(str(exc))
    serve(args, config, sock)
    return 0
