"""The Seedance tab shows a batch's items, on a real api-server, on this venv's Airflow (3.3, and 3.1 floor).

tests/dags/seedance_tab_batch.py runs once with ``dag.test()`` against the emulator, in a child process on its
own migrated database (as tests/integration/test_seedance_tab.py does): a batch of five items whose task
succeeds (three saved, one refused for content policy, one skipped by its budget) and one whose failure policy
fails its task. Checked over HTTP: the counts per status and each item with its status and reason, the failed
task's results read from ``seedance_batch_results``, paging and the status filter, an item's video answering a
Range request with 206 and ``ftyp`` bytes, an item index that names nothing refused (404) and a user who may not
read the DAG refused (403, 401 anonymous), the page across runs counting the items. In headless Chromium: the
task's tab inside Airflow pages to an item, which plays through a Range request.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import airflow
import pytest

from tests.integration.conftest import API_KEY
from tests.integration.test_seedance_tab import DOCS, _folder_name, _get, _play, admin_page, run_in_child, serve
from tests.ui_auth import OUTSIDER

pytestmark = [pytest.mark.usefixtures("connections"), pytest.mark.timeout(600)]

DAG_ID = "seedance_tab_batch"
RUN_BATCH_DAG = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("seedance_tab_batch_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from tests.in_process_api import cache_in_process_api_server
cache_in_process_api_server()
run = module.dag.test()
def state(task_id):
    value = run.get_task_instance(task_id).state
    return getattr(value, "value", value)
print("BATCH RUN: " + json.dumps({"run_id": run.run_id, "states": {t: state(t) for t in ("catalog", "strict")}}))
"""


@pytest.fixture(scope="module")
def batch_run(output_dir: Path) -> dict[str, Any]:
    """The DAG run once in a child process (everything it wrote committed before the api-server reads it)."""
    home = output_dir / "tab-batch-airflow-home"
    run = run_in_child(RUN_BATCH_DAG, "seedance_tab_batch.py", home, "BATCH RUN: ")
    assert run["states"] == {"catalog": "success", "strict": "failed"}, run
    folder = output_dir / "tab-batch" / _folder_name(run["run_id"])
    return {"dag_id": DAG_ID, "run_id": run["run_id"], "folder": folder, "home": home}


@pytest.fixture(scope="module")
def server(batch_run: dict[str, Any]) -> Any:
    with serve(batch_run["home"]) as running:
        yield running


def _query(batch_run: dict[str, Any], task_id: str, **more: Any) -> str:
    ids = {"dag_id": DAG_ID, "run_id": batch_run["run_id"], "task_id": task_id, "map_index": -1, **more}
    return "&".join(f"{key}={quote(str(value), safe='')}" for key, value in ids.items())


def _items(page: str) -> list[tuple[str, str]]:
    """(item index, status) of each item section of a page, in page order."""
    return re.findall(r'class="render item [^"]*"[^>]*data-item-index="(\d+)" data-status="(\w+)"', page)


def test_a_batchs_items_show_with_their_status_counts_and_reasons(server, batch_run):
    page = _get(server, f"/seedance/task?{_query(batch_run, 'catalog')}").text
    assert 'data-items="5"' in page, page[:2000]
    for status, count in (("succeeded", 3), ("failed", 1), ("skipped", 1)):
        assert f'data-status="{status}" data-count="{count}"' in page
    assert _items(page) == [
        ("0", "succeeded"),
        ("1", "succeeded"),
        ("2", "failed"),
        ("3", "skipped"),
        ("4", "succeeded"),
    ]
    assert page.count("<video ") == 3 and "Failed: failed: content_policy_violation" in page
    assert "Skipped: over budget: no teapots" in page and "lamp" in page and "vase" in page
    assert API_KEY not in page and "Bearer" not in page
    # the failed task's results, from seedance_batch_results
    strict = _get(server, f"/seedance/task?{_query(batch_run, 'strict')}").text
    assert "The task failed (its failure policy)" in strict and _items(strict) == [("0", "succeeded"), ("1", "failed")]
    # the run's tab: both batches, each with its counts (and the Airflow 3.1 UI's unencoded run id still works)
    run = _get(server, f"/seedance/run?dag_id={DAG_ID}&run_id={batch_run['run_id']}").text
    assert run.count('class="batch"') == 2 and run.count('class="render item ') == 7, run[:2000]


def test_paging_and_the_status_filter(server, batch_run):
    first = _get(server, f"/seedance/task?{_query(batch_run, 'catalog', per_page=2)}").text
    assert _items(first) == [("0", "succeeded"), ("1", "succeeded")] and "page 1 of 3" in first
    assert "page=2&amp;per_page=2" in first
    last = _get(server, f"/seedance/task?{_query(batch_run, 'catalog', per_page=2, page=3)}").text
    assert _items(last) == [("4", "succeeded")] and "Items 5-5 of 5, page 3 of 3." in last
    assert 'class="page next"' not in last and 'class="page previous"' in last
    failed = _get(server, f"/seedance/task?{_query(batch_run, 'catalog', status='failed')}").text
    assert _items(failed) == [("2", "failed")] and "Items 1-1 of 1 failed" in failed


def test_an_item_plays_through_the_media_endpoint_by_its_index(server, batch_run):
    saved = (batch_run["folder"] / "catalog" / "chair.mp4").read_bytes()
    video = f"/seedance/media?{_query(batch_run, 'catalog', item_index=1)}"
    part = _get(server, video, headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206 and part.content == saved[:1024] and part.content[4:8] == b"ftyp"
    assert part.headers["content-range"] == f"bytes 0-1023/{len(saved)}"
    assert part.headers["x-content-type-options"] == "nosniff" and part.headers["content-security-policy"] == "sandbox"
    poster = _get(server, f"/seedance/poster?{_query(batch_run, 'catalog', item_index=1)}")
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    # the failed task's saved item plays too
    strict = _get(
        server, f"/seedance/media?{_query(batch_run, 'strict', item_index=0)}", headers={"Range": "bytes=4-7"}
    )
    assert strict.status_code == 206 and strict.content == b"ftyp"


def test_an_item_that_is_not_there_or_not_readable_is_refused(server, batch_run):
    for item_index in ("5", "99", "2", "3", "-1", "1.0", "../../../etc/passwd", "1%00"):  # 2 failed, 3 skipped
        answer = _get(server, f"/seedance/media?{_query(batch_run, 'catalog', item_index=item_index)}")
        refused = 422 if len(item_index) > 12 else 404  # past the parameter's bound: refused before it is read
        assert answer.status_code == refused, (item_index, answer.status_code, answer.text[:200])
        assert "root:" not in answer.text
    assert _get(server, f"/seedance/media?{_query(batch_run, 'nosuchtask', item_index=0)}").status_code == 404
    item = f"/seedance/media?{_query(batch_run, 'catalog', item_index=0)}"
    pages = (item, f"/seedance/poster?{_query(batch_run, 'catalog', item_index=0)}", item.replace("media", "task"))
    for path in pages:
        assert _get(server, path, user=OUTSIDER).status_code == 403, path
        assert _get(server, path, user=None).status_code == 401, path
    assert _get(server, item).status_code == 200


def test_the_page_across_runs_counts_the_batch_items(server, batch_run):
    page = _get(server, "/seedance/overview").text
    assert '<td>evolink</td><td>rendered</td><td class="n">4</td>' in page, page[-3000:]
    assert '<td>not sent</td><td>skipped</td><td class="n">1</td>' in page  # a skipped item was sent nowhere
    assert '<td>evolink</td><td>failed: content_policy_violation</td><td class="n">2</td>' in page
    assert '<td class="n">4</td><td class="n">2</td>' in page  # the run: 4 rendered, 2 failed
    assert 'id="bounds"' in page and 'id="partial"' not in page
    assert 'id="no-runs"' in _get(server, "/seedance/overview", user=OUTSIDER).text


def test_a_batch_tab_pages_and_plays_inside_airflow_in_chromium(server, batch_run):
    url, media = server["url"], []
    with admin_page(server, media) as page:
        run = quote(batch_run["run_id"], safe="")
        page.goto(f"{url}/dags/{DAG_ID}/runs/{run}/tasks/catalog/plugin/seedance-task")
        frame = page.frame_locator("iframe")
        frame.locator('section.batch[data-task="catalog"]').wait_for()
        time.sleep(0.5)  # the posters
        tab_png = page.screenshot(full_page=False)
        # the "failed" count filters the items; "all" brings them back; the vase plays
        frame.locator('a.count[data-status="failed"]').click()
        frame.locator('section.batch[data-status="failed"]').wait_for()
        assert frame.locator("section.render.item").count() == 1
        frame.locator('a.count[data-status=""]').click()
        frame.locator('section.batch[data-status=""]').wait_for()
        played = _play(page, frame.locator('section.item[data-item-index="4"] video'))
    assert played["ready"] >= 4 and played["time"] > 0.5, played
    ranged = [m for m in media if m[0] == 206 and m[1] and "item_index=4" in m[3]]
    assert ranged, f"no Range request of item 4 answered 206: {media}"
    version = "3.1" if airflow.__version__.startswith("3.1.") else "3.3"
    target = DOCS / f"seedance-tab-batch-{version}.png"
    if not target.exists() or os.environ.get("SEEDANCE_UPDATE_SCREENSHOT"):
        target.write_bytes(tab_png)
