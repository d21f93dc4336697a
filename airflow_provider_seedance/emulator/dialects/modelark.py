"""BytePlus ModelArk dialect (served under /api/v3 and at the root): create, get, list and
cancel content-generation tasks; errors as {"error": {code, message, param, type}}."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_seedance.emulator.common import FPS, ApiError, bad, pixels
from airflow_provider_seedance.emulator.runtime import Emulator, emulator_of, new_token
from airflow_provider_seedance.emulator.store import Phase, Task
from airflow_provider_seedance.emulator.video import stable_seed

from .modelark_drafts import FROM_DRAFT, draft_task_id, final_from_draft
from .modelark_request import validate

NAME = "modelark"
PREFIXES = ("/api/v3", "")
TASKS_PATH = "/contents/generations/tasks"
STATUSES = tuple(phase.value for phase in Phase)
ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidParameter", "BadRequest"),
    401: ("AuthenticationError", "Unauthorized"),
    403: ("AccessDenied", "Forbidden"),
    404: ("ResourceNotFound", "NotFound"),
    409: ("InvalidAction.TaskNotCancellable", "Conflict"),
    429: ("RateLimitExceeded", "TooManyRequests"),
    500: ("InternalServiceError", "InternalServerError"),
    502: ("ServiceUnavailable", "BadGateway"),
    503: ("ServiceUnavailable", "ServiceUnavailable"),
}


def error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    path: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """A ModelArk error response."""
    default_code, kind = ERRORS.get(status, ("InternalServiceError", "InternalServerError"))
    body = {"error": {"code": code or default_code, "message": message, "param": param or "", "type": kind}}
    return JSONResponse(body, status_code=status, headers=headers)


def _tokens(task: Task) -> int:
    width, height = pixels(task.spec.resolution, task.spec.ratio)
    return width * height * FPS * task.spec.duration // 1024


def task_json(emu: Emulator, request: Request, task: Task) -> dict[str, Any]:
    """The ModelArk task object at this instant."""
    view = emu.store.view(task)
    spec = task.spec
    seed = spec.seed if spec.seed is not None and spec.seed >= 0 else stable_seed(task.id) % 2**31
    tokens = _tokens(task) if view.phase is Phase.SUCCEEDED else 0
    body: dict[str, Any] = {
        "id": task.id,
        "model": spec.model,
        "status": view.phase.value,
        "usage": {"completion_tokens": tokens, "total_tokens": tokens},
        "created_at": int(task.created_unix),
        "updated_at": view.updated_unix,
        "seed": seed,
        "resolution": spec.resolution,
        "ratio": spec.ratio,
        "duration": spec.duration,
        "framespersecond": FPS,
        "generate_audio": spec.generate_audio,
        "service_tier": spec.extra.get("service_tier", "default"),
        "execution_expires_after": spec.extra.get("execution_expires_after"),
        "priority": spec.extra.get("priority", 0),
        "draft": bool(spec.extra.get("draft")),
    }
    for key in ("draft_task_id", "safety_identifier", "frames", "output_format"):
        if spec.extra.get(key) is not None:
            body[key] = spec.extra[key]
    if view.phase is Phase.SUCCEEDED and view.finished_unix is not None:
        content = {"video_url": emu.file_url(request, task, view.finished_unix)}
        if spec.extra.get("return_last_frame"):
            content["last_frame_url"] = emu.file_url(request, task, view.finished_unix, "-last.png")
        body["content"] = content
    elif view.phase is Phase.FAILED:
        code = spec.directives.fail_code or "InternalServiceError"
        body["error"] = {"code": code, "message": f"The generation task failed: {code}"}
    return body


def _fail(exc: ApiError) -> Response:
    return error(exc.status, exc.message, exc.code, exc.param)


async def create(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        emu.authenticate(request)
        body = await emu.json_body(request)
        draft_id = draft_task_id(body)
        if draft_id is not None:
            body = final_from_draft(body, _draft_body(emu, draft_id), draft_id)
        spec = validate(body, emu.declared(NAME))
        spec.extra["draft_task_id"] = draft_id
        spec.extra["reusable"] = {key: body[key] for key in FROM_DRAFT if key in body}
        stamp = datetime.fromtimestamp(emu.store.unix(), timezone.utc).strftime("%Y%m%d%H%M%S")
        task = emu.store.create(f"cgt-{stamp}-{new_token(5)}", NAME, spec)
        emu.set_ctx(request, task_id=task.id)
        return JSONResponse({"id": task.id})
    except ApiError as exc:
        return _fail(exc)


def _draft_body(emu: Emulator, draft_id: str) -> dict[str, Any]:
    """What a final render reuses of the draft ``draft_id``: a succeeded draft of this emulator, or 400."""
    task = emu.store.get(draft_id, NAME)
    if task is None or not task.spec.extra.get("draft"):
        raise bad(f"The draft task {draft_id} is not found (a final needs a draft's task id)", "content.draft_task.id")
    phase = emu.store.view(task).phase
    if phase is not Phase.SUCCEEDED:
        raise bad(f"The draft task {draft_id} is {phase.value}; only a succeeded draft makes a final", "content")
    return {"model": task.spec.model, **task.spec.extra["reusable"]}


def _find(emu: Emulator, request: Request) -> Task:
    task_id = request.path_params["task_id"]
    emu.set_ctx(request, task_id=task_id)
    emu.authenticate(request)
    task = emu.store.get(task_id, NAME)
    if task is None:
        raise ApiError(404, f"The specified task {task_id} is not found", param="task_id")
    return task


async def get_task(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        return JSONResponse(task_json(emu, request, _find(emu, request)))
    except ApiError as exc:
        return _fail(exc)


async def cancel_task(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        task = _find(emu, request)
        before = emu.store.view(task)
        if before.phase is not Phase.QUEUED:
            raise ApiError(
                409, f"The task {task.id} is {before.phase.value}; only queued tasks can be cancelled", param="task_id"
            )
        emu.store.cancel(task)
        return JSONResponse({})
    except ApiError as exc:
        return _fail(exc)


def _page_int(request: Request, key: str, default: int, high: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"{key} must be an integer", key) from None
    if not 1 <= value <= high:
        raise bad(f"{key} must be between 1 and {high}", key)
    return value


async def list_tasks(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        emu.authenticate(request)
        page_num = _page_int(request, "page_num", 1, 500)
        page_size = _page_int(request, "page_size", 10, 500)
        status = request.query_params.get("filter.status")
        if status and status not in STATUSES:
            raise bad(f"filter.status must be one of {', '.join(STATUSES)}", "filter.status")
        ids = set(request.query_params.getlist("filter.task_ids"))
        model = request.query_params.get("filter.model")
        items = []
        for task in emu.store.listing(NAME):
            if (ids and task.id not in ids) or (model and task.spec.model != model):
                continue
            if status and emu.store.view(task).phase.value != status:
                continue
            items.append(task)
        start = (page_num - 1) * page_size
        page = [task_json(emu, request, task) for task in items[start : start + page_size]]
        return JSONResponse({"items": page, "total": len(items)})
    except ApiError as exc:
        return _fail(exc)


def routes() -> list[Route]:
    result: list[Route] = []
    for prefix in PREFIXES:
        base = prefix + TASKS_PATH
        result += [
            Route(base, create, methods=["POST"]),
            Route(base, list_tasks, methods=["GET"]),
            Route(base + "/{task_id}", get_task, methods=["GET"]),
            Route(base + "/{task_id}", cancel_task, methods=["DELETE"]),
        ]
    return result
