"""The Seedance tab (the provider's plugin) on a real api-server, on this venv's Airflow (3.3, and 3.1 floor).

A DAG renders against the emulator with ``dag.test()`` (two mapped renders saved, one whose file is then
deleted, one refused for content policy); ``airflow api-server`` then serves that metadata database with an
auth manager where ``outsider`` may read no DAG. Checked over HTTP: 401 without a token, 403 without read
access to the DAG (page and media), Range answers (206, 416), only files the results name (path tricks 404),
the missing file shown with its generation id. Checked in headless Chromium: the tab inside Airflow's DAG-run
page plays the video (ready state "enough data", the time advancing), a seek is a Range request answered 206,
and the page across runs draws its chart. Screenshots go to docs/ (when missing, or SEEDANCE_UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import airflow
import httpx
import pytest

from tests.airflow_db import own_database
from tests.api_server import api_server
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.integration.conftest import API_KEY, DAGS
from tests.ui_auth import OUTSIDER

pytestmark = [pytest.mark.usefixtures("connections"), pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PASSWORDS = {"admin": "admin-pw-7c1d", OUTSIDER: "outsider-pw-3e9a"}


RUN_TAB_DAG = """
import importlib.util, json, sys
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
spec = importlib.util.spec_from_file_location("seedance_tab_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from tests.in_process_api import cache_in_process_api_server
cache_in_process_api_server()
run = module.dag.test()
def state(task_id, map_index):
    value = run.get_task_instance(task_id, map_index=map_index).state
    return getattr(value, "value", value)
states = {"render": state("render", 0), "refused": state("refused", -1)}
with create_session() as session:
    row = session.scalars(XComModel.get_many(run_id=run.run_id, key="return_value", dag_ids=run.dag_id,
                                             task_ids="gone", map_indexes=-1)).first()
    gone = XComModel.deserialize_value(row)
print("TAB RUN: " + json.dumps({"run_id": run.run_id, "states": states, "gone_id": gone["generation_id"]}))
"""


def _folder_name(run_id: str) -> str:
    return run_id.replace(":", "-").replace("+", "-")


def run_in_child(script: str, dag_file: str, home: Path, marker: str) -> dict[str, Any]:
    """``script`` (``python -c``) on ``tests/dags/<dag_file>`` in a child process on ``home``'s own database; the
    JSON of its last stdout line starting with ``marker``. The hang guard is 420 s, in a module of 600 s."""
    env = {**os.environ, **own_database(home)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(DAGS / dag_file)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(marker)]
    assert lines, (done.stdout + done.stderr)[-6000:]
    return dict(json.loads(lines[-1].removeprefix(marker)))


@pytest.fixture(scope="module")
def tab_run(output_dir: Path) -> dict[str, Any]:
    """tests/dags/seedance_tab.py run once, in a child process as a worker would run it: everything it wrote
    is committed when the api-server (another process) reads it. In this process, a session an earlier test
    left open can hold the run's rows back from other readers (SQLite shows them only what is committed)."""
    run = run_in_child(RUN_TAB_DAG, "seedance_tab.py", tab_home(output_dir), "TAB RUN: ")
    assert run["states"] == {"render": "success", "refused": "failed"}, run
    folder = output_dir / "tab" / _folder_name(run["run_id"])
    (folder / "gone.mp4").unlink()
    _big_clip(folder / "render-1.mp4")
    return {"dag_id": "seedance_tab", "run_id": run["run_id"], "folder": folder, "gone_id": run["gone_id"]}


def tab_home(output_dir: Path) -> Path:
    """The tab's own Airflow home and database (the child run and the api-server share it; no second process
    on the worker's SQLite file, which other tests of the worker use)."""
    home = output_dir / "tab-airflow-home"
    own_database(home)
    return home


@pytest.fixture(scope="module")
def server(tab_run: dict[str, Any], output_dir: Path) -> Any:
    with serve(tab_home(output_dir)) as running:
        yield running


@contextlib.contextmanager
def serve(airflow_db: Path) -> Iterator[dict[str, Any]]:
    """An api-server on the Airflow home ``airflow_db``, where ``outsider`` may read no DAG; its URL and a token
    per user (the batch tab's tests use it too)."""
    passwords = airflow_db / "tab-passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    overrides = {
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.ui_auth.OutsiderAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"admin:admin,{OUTSIDER}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    with api_server(airflow_db, overrides) as url:
        tokens = {}
        for user, password in PASSWORDS.items():
            answer = httpx.post(f"{url}/auth/token", json={"username": user, "password": password}, timeout=30)
            assert answer.status_code in (200, 201), answer.text
            tokens[user] = answer.json()["access_token"]
        yield {"url": url, "tokens": tokens}


def _get(server: dict[str, Any], path: str, user: str | None = "admin", **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if user:
        headers["Authorization"] = f"Bearer {server['tokens'][user]}"
    return httpx.request(kwargs.pop("method", "GET"), server["url"] + path, headers=headers, timeout=60, **kwargs)


def _ids(tab_run: dict[str, Any], task_id: str, map_index: int = -1) -> str:
    query = {"dag_id": tab_run["dag_id"], "run_id": tab_run["run_id"], "task_id": task_id, "map_index": map_index}
    return "&".join(f"{key}={quote(str(value), safe='')}" for key, value in query.items())


def test_the_tab_and_its_media_need_read_access_to_the_dag(server, tab_run):
    run_page = f"/seedance/run?{_ids(tab_run, 'render').rsplit('&task_id', 1)[0]}"
    video = f"/seedance/media?{_ids(tab_run, 'render', 0)}"
    for path in (run_page, video, f"/seedance/task?{_ids(tab_run, 'render', 0)}", "/seedance/overview"):
        assert _get(server, path, user=None).status_code == 401, path
    for path in (run_page, video, f"/seedance/poster?{_ids(tab_run, 'render', 0)}"):
        assert _get(server, path, user=OUTSIDER).status_code == 403, path
    # across runs, the outsider sees no DAG of theirs; the admin sees the run
    assert 'id="no-runs"' in _get(server, "/seedance/overview", user=OUTSIDER).text
    assert _get(server, run_page).status_code == 200


def test_media_streams_ranges_of_only_the_files_the_results_name(server, tab_run):
    saved = (tab_run["folder"] / "render-0.mp4").read_bytes()
    size = len(saved)
    video = f"/seedance/media?{_ids(tab_run, 'render', 0)}"
    whole = _get(server, video)
    assert whole.status_code == 200 and whole.content == saved
    assert whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
    part = _get(server, video, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == saved[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{size}"
    tail = _get(server, video, headers={"Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.content == saved[-64:]
    past = _get(server, video, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    assert (
        whole.headers["x-content-type-options"] == "nosniff" and whole.headers["content-security-policy"] == "sandbox"
    )
    head = _get(server, video, method="HEAD")
    assert head.status_code == 200 and head.headers["content-length"] == str(size) and not head.content

    # nothing but a result's own file: no such task, map index, DAG or route; a refused render has no file
    for path in (
        f"/seedance/media?{_ids(tab_run, '../../../../etc/passwd')}",
        f"/seedance/media?{_ids(tab_run, 'render', 7)}",
        f"/seedance/media?{_ids(tab_run, 'refused')}",
        f"/seedance/media?{_ids(tab_run, 'render', 0).replace('seedance_tab', 'seedance_tab%2F..%2F..')}",
        "/seedance/media/..%2F..%2F..%2Fetc%2Fpasswd",
        "/seedance/..%2F..%2Fetc%2Fpasswd",
    ):
        answer = _get(server, path)
        assert answer.status_code == 404, (path, answer.status_code, answer.text[:200])
        assert "root:" not in answer.text
    gone = _get(server, f"/seedance/media?{_ids(tab_run, 'gone')}")
    assert gone.status_code == 404 and "missing" in gone.text


def test_the_run_page_shows_every_render_with_its_facts_and_what_is_missing(server, tab_run):
    page = _get(server, f"/seedance/run?{_ids(tab_run, 'render').rsplit('&task_id', 1)[0]}").text
    assert page.count("<video ") == 2, page
    assert "a lighthouse at dusk, waves breaking" in page and "seedance-2.0-text-to-video" in page
    assert "Missing: the saved video is no longer at" in page
    assert tab_run["gone_id"] in page
    assert "Failed: failed: content_policy_violation" in page
    assert API_KEY not in page and "Bearer" not in page
    # Airflow 3.1's UI puts the ids into the tab's address unencoded: the run id's "+" must stay a plus
    assert "+" in tab_run["run_id"]
    raw = _get(server, f"/seedance/run?dag_id={tab_run['dag_id']}&run_id={tab_run['run_id']}").text
    assert raw.count("<video ") == 2, raw[:500]
    one = _get(server, f"/seedance/task?{_ids(tab_run, 'render', 1)}").text
    # the tab of a task that is not mapped: the UI leaves {MAP_INDEX} as it is
    unmapped = _get(server, f"/seedance/task?{_ids(tab_run, 'gone')}".replace("map_index=-1", "map_index={MAP_INDEX}"))
    assert unmapped.status_code == 200 and tab_run["gone_id"] in unmapped.text, unmapped.text[:300]
    assert one.count("<video ") == 1 and "a red kite over green hills" in one
    overview = _get(server, "/seedance/overview").text
    assert 'id="spend-chart"' in overview and "seedance_tab" in overview
    assert "failed: content_policy_violation" in overview


def _seen(response: Any) -> tuple[int, str | None, float, str]:
    return response.status, response.request.headers.get("range"), time.monotonic(), response.url[-40:]


def _play(page: Any, player: Any) -> dict[str, float]:
    """Play a video element muted until it has enough data and its time has advanced; its state then."""
    player.wait_for()
    handle = player.element_handle()
    handle.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.readyState >= 4 && v.currentTime > 0.5", arg=handle)
    state: dict[str, float] = handle.evaluate("v => ({ready: v.readyState, time: v.currentTime})")
    handle.evaluate("v => v.pause()")
    return state


def _big_clip(path: Path, seconds: int = 10, fps: int = 24) -> None:
    """An 11 MB H.264 MP4 of noise at ``path`` (the size of a real 1080p clip; the emulator's are ~200 KB)."""
    import av
    import numpy as np

    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 480, 270, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        for index in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (270, 480, 3), dtype=np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@contextlib.contextmanager
def admin_page(server: Any, media: list[tuple[Any, ...]]) -> Iterator[Any]:
    """A Chromium page logged in as the admin (autoplay allowed), every ``/seedance/media`` response it sees
    appended to ``media`` (:func:`_seen`)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_cookies([{"name": "_token", "value": server["tokens"]["admin"], "url": server["url"]}])
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.on("response", lambda r: media.append(_seen(r)) if "/seedance/media" in r.url else None)
            yield page
        finally:
            browser.close()


def test_the_tab_plays_inside_airflow_in_chromium(server, tab_run):
    url, media = server["url"], []
    with admin_page(server, media) as page:
        run = quote(tab_run["run_id"], safe="")
        page.goto(f"{url}/dags/{tab_run['dag_id']}/runs/{run}/plugin/seedance-run")
        frame = page.frame_locator("iframe")
        played = _play(page, frame.locator('section[data-task="render"][data-map-index="0"] video'))
        # The second clip is 11 MB (the fixture's): with its metadata loaded and nothing played, the
        # player has not read its end, so a seek there is a new request for that range
        big = frame.locator('section[data-task="render"][data-map-index="1"] video')
        page.wait_for_function("v => v.readyState >= 1", arg=big.element_handle())  # its metadata only
        before_seek = time.monotonic()
        big.evaluate("v => { v.currentTime = v.duration - 1.5; }")
        page.wait_for_function("v => !v.seeking && v.readyState >= 2", arg=big.element_handle())
        page.wait_for_timeout(500)
        tab_png = page.screenshot(full_page=False)
        # the tab of a task that is not mapped (the UI fills in no map index there)
        page.goto(f"{url}/dags/{tab_run['dag_id']}/runs/{run}/tasks/gone/plugin/seedance-task")
        page.frame_locator("iframe").locator(".missing-file").wait_for()
        page.goto(f"{url}/plugin/seedance-renders")
        overview = page.frame_locator("iframe")
        # the chart (other tests' runs in this database may have cost nothing: a bar of height 0 is hidden)
        overview.locator("#spend-chart").wait_for()
        assert overview.locator("#spend-chart rect").count() >= 1
        overview_png = page.screenshot(full_page=False)
        # a link back into Airflow leaves the sandboxed frame: the UI's router goes to the run
        overview.locator("#runs a.airflow-link").first.click()
        page.wait_for_url(f"**/dags/{tab_run['dag_id']}/runs/**", timeout=30_000)
    assert played["ready"] >= 4 and played["time"] > 0.5, played
    ranged = [m for m in media if m[0] == 206 and m[1]]
    assert ranged, f"no Range request answered 206: {media}"
    after_seek = [m for m in media if m[2] >= before_seek]
    assert any(m[0] == 206 and m[1] and m[1] != "bytes=0-" for m in after_seek), f"the seek fetched no range: {media}"
    version = "3.1" if airflow.__version__.startswith("3.1.") else "3.3"
    for name, png in ((f"seedance-tab-{version}.png", tab_png), (f"seedance-overview-{version}.png", overview_png)):
        target = DOCS / name
        if not target.exists() or os.environ.get("SEEDANCE_UPDATE_SCREENSHOT"):
            target.write_bytes(png)
