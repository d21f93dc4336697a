"""Control endpoints (/_emulator/...): health, stats, request log, reset, task inspection; and the
emulator's independence from the rest of the provider package."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import httpx
from emulator_support import API_KEY, FakeClock, evolink_create, finish

import airflow_provider_seedance.emulator as emulator_package


def test_health(emu: Any) -> None:
    assert httpx.get(f"{emu.url}/_emulator/health").json()["status"] == "ok"


def test_stats_and_request_log(emu: Any, client: httpx.Client, clock: FakeClock) -> None:
    task = evolink_create(client)
    client.post("/v1/videos/generations", json={"model": "nope", "prompt": "x"})
    client.get(f"/v1/tasks/{task['id']}")
    client.post("/v2/video/generations", json={"model": "bytedance/seedance-1-0-pro-fast", "prompt": "x"})
    client.post(
        "/contents/generations/tasks",
        json={"model": "seedance-1-0-pro-fast-251015", "content": [{"type": "text", "text": "x [fail:oops]"}]},
    )
    client.get("/api/v3/contents/generations/tasks")
    client.get("/nowhere")
    finish(clock)
    url = client.get(f"/v1/tasks/{task['id']}").json()["results"][0]
    httpx.head(url)

    stats = emu.stats()
    assert stats == {
        "creates": {"evolink": 1, "aimlapi": 1, "modelark": 1},
        "creates_total": 3,
        "polls": 2,
        "cancels": 0,
        "downloads": 1,
        "lists": 1,
        "requests": 9,
        "tasks": 3,
        "by_status": {"failed": 1, "succeeded": 2},
    }
    log = emu.requests()
    assert [(e["dialect"], e["kind"], e["status"]) for e in log] == [
        ("evolink", "create", 200),
        ("evolink", "create", 400),
        ("evolink", "poll", 200),
        ("aimlapi", "create", 200),
        ("modelark", "create", 200),
        ("modelark", "list", 200),
        (None, "other", 404),
        ("evolink", "poll", 200),
        ("files", "download", 200),
    ]
    first = log[0]
    assert set(first) == {
        "method",
        "path",
        "query",
        "dialect",
        "kind",
        "status",
        "task_id",
        "idempotency_replayed",
        "fault",
        "ts",
        "duration_ms",
    }
    assert first["task_id"] == task["id"]
    assert log[-1]["method"] == "HEAD"
    assert log[-1]["task_id"] == task["id"]
    assert log[-1]["query"].startswith("expires=")
    assert API_KEY not in json.dumps(log)
    assert "authorization" not in json.dumps(log).lower()


def test_reset_clears_everything(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client)
    emu.set_faults({"poll": {"500": 0.5}})
    emu.reset()
    assert emu.stats()["tasks"] == 0
    assert emu.requests() == []
    assert httpx.get(f"{emu.url}/_emulator/faults").json() == {"faults": {}}
    assert client.get(f"/v1/tasks/{task['id']}").status_code == 404


def test_task_inspection_and_forced_cancel(emu: Any, client: httpx.Client) -> None:
    task = evolink_create(client, prompt="[render:20] [fail:service_error] slow failing cat")
    state = httpx.get(f"{emu.url}/_emulator/tasks/{task['id']}").json()
    assert state["phase"] == "queued"
    assert state["render_seconds"] == 20
    assert state["fail_code"] == "service_error"
    assert state["prompt"] == "slow failing cat"
    assert emu.force_cancel(task["id"])["phase"] == "cancelled"
    assert httpx.get(f"{emu.url}/_emulator/tasks/nope").status_code == 404
    assert httpx.post(f"{emu.url}/_emulator/tasks/nope/cancel").status_code == 404


def test_a_render_finished_now_ends_as_its_prompt_says(emu: Any, client: httpx.Client) -> None:
    done = evolink_create(client, prompt="[render:600] a slow cat")
    failing = evolink_create(client, prompt="[render:600] [fail:service_error] a slow failing cat")
    stuck = evolink_create(client, prompt="[render:600] [stuck] a stuck cat")
    assert httpx.get(f"{emu.url}/_emulator/tasks/{done['id']}").json()["phase"] == "queued"
    assert emu.finish(done["id"])["phase"] == "succeeded"
    assert client.get(f"/v1/tasks/{done['id']}").json()["status"] == "completed"
    assert emu.finish(failing["id"])["phase"] == "failed"
    assert emu.finish(stuck["id"])["phase"] == "queued"  # stuck as it was: still cancellable on ModelArk
    assert emu.force_cancel(stuck["id"])["phase"] == "cancelled"
    assert emu.finish(stuck["id"])["phase"] == "cancelled"  # a finished task stays as it ended
    assert httpx.post(f"{emu.url}/_emulator/tasks/nope/finish").status_code == 404


def test_base_urls(emu: Any) -> None:
    assert emu.base_url("evolink") == emu.url
    assert emu.base_url("aimlapi") == emu.url
    assert emu.base_url("modelark") == emu.url + "/api/v3"


#: The provider modules the emulator may import: the parser of declared models and what it returns, so the
#: emulator takes the same declarations as the provider (``emulator/declared.py``, the only importer). The
#: client code (backends, hook, transport) stays out: the emulator must catch its mistakes, not share them.
DECLARATION_MODULES = {
    "airflow_provider_seedance.contract._declared_models",
    "airflow_provider_seedance.exceptions",
    "airflow_provider_seedance.contract.limits",
    "airflow_provider_seedance.models",
}


def test_emulator_imports_of_the_provider_only_its_declared_model_parser() -> None:
    root = Path(emulator_package.__file__).parent
    for source in root.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("airflow_provider_seedance") and not name.startswith(
                    "airflow_provider_seedance.emulator"
                ):
                    assert source.name == "declared.py", f"{source}: {name}"
                    assert name in DECLARATION_MODULES, f"{source}: {name}"
                assert name != "airflow"
                assert not name.startswith("airflow."), f"{source}: {name}"
