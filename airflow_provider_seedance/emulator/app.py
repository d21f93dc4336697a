"""App factory: the three dialects, the CDN file routes and the unauthenticated control
endpoints under /_emulator, wrapped by the fault/logging middleware."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from . import files
from .asgi import EmulatorMiddleware
from .dialects import all_routes
from .faults import FaultConfigError
from .runtime import Emulator, EmulatorConfig, emulator_of
from .store import Task, TaskStore

VERSION = "1"


async def health(request: Request) -> Response:
    emu = emulator_of(request)
    return JSONResponse({"status": "ok", "version": VERSION, "tasks": len(emu.store.tasks)})


async def get_faults(request: Request) -> Response:
    return JSONResponse({"faults": emulator_of(request).faults.config})


async def set_faults(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        config = json.loads(await request.body() or b"{}")
        emu.faults.configure(config)
    except (ValueError, FaultConfigError) as exc:
        return JSONResponse({"error": {"message": str(exc)}}, status_code=400)
    return JSONResponse({"faults": emu.faults.config})


async def reset(request: Request) -> Response:
    emulator_of(request).reset()
    return JSONResponse({"status": "reset"})


async def requests_log(request: Request) -> Response:
    return JSONResponse(list(emulator_of(request).store.log))


async def stats(request: Request) -> Response:
    return JSONResponse(emulator_of(request).store.stats())


def _task_state(emu: Emulator, task_id: str) -> dict[str, Any] | None:
    task = emu.store.get(task_id)
    if task is None:
        return None
    view = emu.store.view(task)
    spec = task.spec
    return {
        "id": task.id,
        "dialect": task.dialect,
        "phase": view.phase.value,
        "progress": view.progress,
        "model": spec.model,
        "prompt": spec.prompt,
        "duration": spec.duration,
        "ratio": spec.ratio,
        "resolution": spec.resolution,
        "generate_audio": spec.generate_audio,
        "render_seconds": task.render_seconds,
        "created_unix": task.created_unix,
        "fail_code": spec.directives.fail_code,
        "expire": spec.directives.expire,
        "stuck": spec.directives.stuck,
    }


async def task_state(request: Request) -> Response:
    state = _task_state(emulator_of(request), request.path_params["task_id"])
    if state is None:
        return JSONResponse({"error": {"message": "no such task"}}, status_code=404)
    return JSONResponse(state)


def _on_task(request: Request, action: Callable[[TaskStore, Task], object]) -> Response:
    """Apply a store action (``force_cancel``, ``finish``) to the task in the path; its state after."""
    emu = emulator_of(request)
    task = emu.store.get(request.path_params["task_id"])
    if task is None:
        return JSONResponse({"error": {"message": "no such task"}}, status_code=404)
    action(emu.store, task)
    return JSONResponse(_task_state(emu, task.id))


async def force_cancel(request: Request) -> Response:
    """Cancel a non-terminal task whatever its phase."""
    return _on_task(request, TaskStore.force_cancel)


async def finish(request: Request) -> Response:
    """End a task's render now (a ``[stuck]`` one stays stuck)."""
    return _on_task(request, TaskStore.finish)


def control_routes() -> list[Route]:
    return [
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/faults", get_faults, methods=["GET"]),
        Route("/_emulator/faults", set_faults, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/requests", requests_log, methods=["GET"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/tasks/{task_id}", task_state, methods=["GET"]),
        Route("/_emulator/tasks/{task_id}/cancel", force_cancel, methods=["POST"]),
        Route("/_emulator/tasks/{task_id}/finish", finish, methods=["POST"]),
    ]


def create_app(config: EmulatorConfig | None = None, **options: Any) -> ASGIApp:
    """Build the emulator ASGI app from a config or keyword options of EmulatorConfig."""
    if config is None:
        config = EmulatorConfig(**options)
    elif options:
        raise TypeError("pass either config or keyword options, not both")
    emulator = Emulator(config)
    app = Starlette(routes=[*control_routes(), *all_routes(), *files.routes()])
    app.state.emulator = emulator
    middleware = EmulatorMiddleware(app, emulator)
    return middleware


def emulator_from_app(app: ASGIApp) -> Emulator:
    """The runtime state behind an app made by create_app (for in-process tests)."""
    if isinstance(app, EmulatorMiddleware):
        return app.emulator
    raise TypeError("not an emulator app")
