"""The Seedance tab's batch parts, pure: a batch's results read in one pass (counts, a page of items), the
item a media request names, spend across runs with batch items, and the pages that show them (escaped,
bounded whatever the batch's size)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_seedance.contract.batch import BatchItemResult
from airflow_provider_seedance.operators.batch import RESULTS_XCOM_KEY
from airflow_provider_seedance.plugin.addresses import batch_page_query, literal_query
from airflow_provider_seedance.plugin.batches import (
    BATCH_RESULTS_KEY,
    MAX_ITEMS,
    PAGE_SIZE,
    RUN_PREVIEW,
    STATUSES,
    Selection,
    batch_item,
    batches_of,
    is_batch_result,
    previewed,
    read_batch,
    split_rows,
)
from airflow_provider_seedance.plugin.pages import render_page
from airflow_provider_seedance.plugin.renders import XComRow, renders_of
from airflow_provider_seedance.plugin.spend import overview


def _item(index: int, status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    """One entry as the batch operator writes it (``BatchItemResult.to_xcom``)."""
    values: dict[str, Any] = {"item_index": index, "name": f"sku-{index:03d}", "status": status}
    if status == "succeeded":
        values.update(generation_id=f"g{index}", credits=8.0, output_path=f"/v/sku-{index:03d}.mp4", size_bytes=2048)
    elif status != "skipped":
        values.update(generation_id=f"g{index}", reason="failed: content_policy_violation")
    else:
        values.update(reason="over budget")
    values.update(conn_id="seedance_evolink", backend="evolink")
    values.update(fields)
    return BatchItemResult(**values).to_xcom()


def _row(value: Any, key: str = "return_value", task_id: str = "render", map_index: int = -1, run_id: str = "r1"):
    return XComRow("d", run_id, task_id, map_index, key, value, "2026-12-01T00:00:00")


def _catalog(n: int, failed: tuple[int, ...] = (), skipped: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [_item(i, "failed" if i in failed else "skipped" if i in skipped else "succeeded") for i in range(n)]


def test_the_tab_and_the_operator_agree_on_the_key_and_the_status_words():
    assert BATCH_RESULTS_KEY == RESULTS_XCOM_KEY
    assert set(STATUSES) == set(BatchItemResult.model_fields["status"].annotation.__args__)


def test_a_batch_is_a_list_of_item_results_and_nothing_else_is():
    assert is_batch_result(_catalog(2))
    for other in ([], [{"name": "sku-1", "prompt": "a lamp"}], [1, 2], {"item_index": 0, "status": "succeeded"}):
        assert not is_batch_result(other), other
    assert not is_batch_result([{"item_index": True, "status": "succeeded"}])  # a bool is no index
    assert not is_batch_result([{"item_index": 0, "status": "queued"}])
    assert read_batch(_row(_catalog(2), key="seedance_failure")) is None


def test_a_batch_is_counted_whole_and_only_the_page_asked_for_becomes_renders():
    batch = read_batch(_row(_catalog(1000, failed=(3, 500, 999), skipped=(7,))), Selection(page=2))
    assert batch is not None and batch.total == 1000 and not batch.task_failed
    assert batch.counts == {"succeeded": 996, "failed": 3, "skipped": 1}  # in the order of STATUSES
    assert [r.item_index for r in batch.items] == list(range(PAGE_SIZE, 2 * PAGE_SIZE))
    assert batch.pages == 42 and (batch.first_shown, batch.last_shown) == (25, 48)
    assert batch.credits == 996 * 8.0
    assert batch.outcomes == {
        ("evolink", "rendered"): 996,
        ("evolink", "failed: content_policy_violation"): 3,
        ("evolink", "skipped"): 1,
    }
    failed = read_batch(_row(_catalog(1000, failed=(3, 500, 999))), Selection("failed"))
    assert failed is not None and failed.matching == 3 and [r.item_index for r in failed.items] == [3, 500, 999]
    assert failed.items[0].failure == "failed: content_policy_violation" and failed.items[0].output_path is None
    past = read_batch(_row(_catalog(10)), Selection(page=9))
    assert past is not None and past.items == [] and past.first_shown == 0 and past.pages == 1


def test_an_item_is_played_by_its_task_instance_and_index_never_a_path():
    (render,) = read_batch(_row(_catalog(1)), Selection(size=1)).items  # type: ignore[union-attr]
    assert render.query == "dag_id=d&run_id=r1&task_id=render&map_index=-1&item_index=0"
    assert render.output_path == "/v/sku-000.mp4" and render.name == "sku-000" and render.size_bytes == 2048
    rows = [_row(_catalog(30)), _row("/campaign", key="folder", task_id="plan")]
    assert batch_item(rows, "render", -1, 29).generation_id == "g29"  # type: ignore[union-attr]
    assert batch_item(rows, "render", -1, 30) is None
    assert batch_item(rows, "render", 0, 1) is None  # another map index
    assert batch_item(rows, "plan", -1, 0) is None
    shuffled = _catalog(5)[::-1]  # found by its own index, not its place
    assert batch_item([_row(shuffled)], "render", -1, 1).generation_id == "g1"  # type: ignore[union-attr]


def test_a_failing_batch_shows_the_results_it_left_and_a_return_value_wins_over_them():
    left = _row(_catalog(3, failed=(1,)), key=BATCH_RESULTS_KEY)
    (batch,) = batches_of([read_batch(left)])  # type: ignore[list-item]
    assert batch.task_failed and batch.counts == {"succeeded": 2, "failed": 1}
    returned = _row(_catalog(3))
    (batch,) = batches_of([read_batch(left), read_batch(returned)])  # type: ignore[list-item]
    assert not batch.task_failed and batch.counts == {"succeeded": 3}
    assert batch_item([left], "render", -1, 2).output_path == "/v/sku-002.mp4"  # type: ignore[union-attr]
    assert batch_item([left, returned], "render", -1, 1).status == "succeeded"  # type: ignore[union-attr]


def test_every_field_of_an_entry_is_untrusted():
    hostile = _catalog(6)
    hostile[0] = {**hostile[0], "name": "<script>alert(1)</script>\n" * 50, "reason": "r" * 5000}
    hostile[1] = {**hostile[1], "credits": float("inf"), "size_bytes": "9"}
    hostile[2] = {**hostile[2], "credits": float("nan"), "output_path": "x" * 5000}
    hostile[3] = {**hostile[3], "status": "<b>done</b>"}  # not a status word: dropped, counted
    hostile[4] = {**hostile[4], "item_index": -4}
    hostile[5] = "not an item"
    batch = read_batch(_row(hostile))
    assert batch is not None and batch.total == 3 and batch.dropped == 3
    first, second, third = batch.items
    assert len(first.name or "") < 200 and "\n" not in (first.name or "") and len(first.reason or "") < 700
    assert second.credits is None and second.size_bytes is None and third.output_path is None
    assert batch.credits == 8.0  # only the finite price
    failing = read_batch(_row([_item(0, "error", reason="x" * 5000)]))
    assert failing is not None and len(failing.items[0].failure or "") < 700


def test_a_list_longer_than_the_bound_is_read_to_the_bound():
    entries = [_item(0)] * (MAX_ITEMS + 5)
    batch = read_batch(_row(entries), Selection(size=0))
    assert batch is not None and batch.total == MAX_ITEMS and batch.dropped == 5 and batch.items == []


def test_rows_split_into_renders_and_batches_and_reading_stops_at_the_item_bound():
    single = {"generation_id": "g1", "backend": "evolink", "status": "succeeded", "credits": 40}
    rows = [_row(_catalog(50), run_id="r3"), _row(single, task_id="one", run_id="r2"), _row(_catalog(50), run_id="r1")]
    plain, batches, partial = split_rows(iter(rows), Selection(size=0))
    assert [r.task_id for r in plain] == ["one"] and len(batches) == 2 and not partial
    consumed: list[str] = []

    def lazily():
        for row in rows:
            consumed.append(row.run_id)
            yield row

    plain, batches, partial = split_rows(lazily(), Selection(size=0), max_items=50)
    assert partial and [b.run_id for b in batches] == ["r3"] and consumed == ["r3", "r2"]
    _, _, partial = split_rows(iter(rows[:1]), Selection(size=0), max_items=50)
    assert not partial  # the bound met by the last row: nothing was left unread


def test_spend_across_runs_counts_every_item_of_a_batch():
    single = {"generation_id": "g1", "backend": "evolink", "status": "succeeded", "credits": 40}
    rows = [
        _row(single, task_id="one"),
        _row(_catalog(5, failed=(1,), skipped=(4,))),
        _row([_item(0, "timeout", backend="modelark", reason="timeout")], task_id="late", run_id="r2"),
        _row([_item(0, "skipped", backend=None, conn_id=None)], task_id="budget", run_id="r2"),
    ]
    plain, found, partial = split_rows(rows, Selection(size=0))
    summary = overview(renders_of(plain), batches=batches_of(found), partial=partial)
    assert [(s.run_id, s.renders, s.failures, s.credits, s.batch_items) for s in summary.runs] == [
        ("r1", 4, 1, 40 + 3 * 8.0, 5),
        ("r2", 0, 1, 0.0, 2),
    ]
    assert summary.outcomes == {
        ("evolink", "failed: content_policy_violation"): 1,
        ("evolink", "rendered"): 4,
        ("evolink", "skipped"): 1,
        ("modelark", "timeout"): 1,
        ("not sent", "skipped"): 1,  # nothing was sent: no backend to count it under
    }
    assert not summary.partial


@pytest.mark.parametrize(
    ("status", "page", "expected"),
    [
        (None, None, Selection()),
        ("failed", "3", Selection("failed", 3)),
        ("<script>", "0", Selection(None, 1)),
        ("skipped", "-2", Selection("skipped", 1)),
        ("error", "1" * 50, Selection("error", 1)),
    ],
)
def test_a_pages_status_and_number_come_from_its_query_or_default(status, page, expected):
    assert Selection.of(status, page) == expected


@pytest.mark.parametrize(
    ("per_page", "size"), [(None, PAGE_SIZE), ("2", 2), ("96", 96), ("97", PAGE_SIZE), ("0", PAGE_SIZE)]
)
def test_a_page_holds_at_most_96_items(per_page, size):
    assert Selection.of(None, None, per_page).size == size


def test_a_batch_pages_address_names_the_task_instance_status_and_page():
    query = batch_page_query("d", "a+b c", "render", 2, "failed", 3)
    assert query == "dag_id=d&run_id=a%2Bb%20c&task_id=render&map_index=2&status=failed&page=3"
    assert literal_query(query)["run_id"] == "a+b c"
    assert batch_page_query("d", "r", "t", -1) == "dag_id=d&run_id=r&task_id=t&map_index=-1"


def _page(batches, task_id=None, renders=()):
    return render_page("run.html", dag_id="d", run_id="r1", task_id=task_id, renders=list(renders), batches=batches)


def test_a_smaller_page_keeps_its_size_in_its_links():
    html = _page([read_batch(_row(_catalog(5)), Selection(page=2, size=2))], task_id="render")
    assert html.count('class="render item ') == 2 and "Items 3-4 of 5, page 2 of 3." in html
    assert 'map_index=-1&amp;page=3&amp;per_page=2">next' in html
    assert 'map_index=-1&amp;per_page=2">previous' in html


def test_a_batch_tab_shows_counts_one_page_of_players_and_the_way_to_the_next():
    batch = read_batch(_row(_catalog(1000, failed=(3,))), Selection(page=2))
    for item in batch.items:  # type: ignore[union-attr]
        item.present = True
    html = _page([batch], task_id="render")
    assert html.count("<video ") == PAGE_SIZE and html.count('preload="none"') == PAGE_SIZE
    assert 'data-items="1000"' in html and 'data-status="failed" data-count="1"' in html
    assert "Items 25-48 of 1,000, page 2 of 42." in html
    assert 'href="task?dag_id=d&amp;run_id=r1&amp;task_id=render&amp;map_index=-1&amp;page=3">next' in html
    assert 'href="task?dag_id=d&amp;run_id=r1&amp;task_id=render&amp;map_index=-1">previous' in html
    assert 'src="media?dag_id=d&amp;run_id=r1&amp;task_id=render&amp;map_index=-1&amp;item_index=24"' in html


def test_a_runs_tab_shows_each_batchs_first_items_and_links_to_the_rest():
    found = [read_batch(_row(_catalog(20), map_index=m), Selection(size=RUN_PREVIEW)) for m in range(12)]
    html = _page(previewed(batches_of(found)))  # type: ignore[arg-type]
    assert html.count('class="batch"') == 12 and html.count('class="render item ') == 10 * RUN_PREVIEW
    assert html.count("Every item, page by page, on the task's tab") == 12
    assert "The first 6 of 20." in html


def test_a_batch_page_escapes_what_the_xcom_says():
    hostile = [_item(0, "failed", name="x", reason='<img src=x onerror="alert(1)">')]
    hostile[0]["name"] = "<script>alert(1)</script>"
    hostile[0]["backend"] = '"><svg onload=alert(2)>'
    html = _page([read_batch(_row(hostile, task_id='t"><b>'))], task_id='t"><b>')
    assert "<script>alert" not in html and "<img " not in html and "<svg " not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r'data-task="t&#34;&gt;&lt;b&gt;"', html)


def test_the_page_across_runs_says_how_much_it_read():
    summary = overview([], batches=batches_of([read_batch(_row(_catalog(3)))]), partial=True)  # type: ignore[list-item]
    html = render_page("overview.html", summary=summary, max_rows=20_000, max_items=200_000)
    assert 'id="partial"' in html and "200,000 batch items" in html
    assert '<td>evolink</td><td>rendered</td><td class="n">3</td>' in html
