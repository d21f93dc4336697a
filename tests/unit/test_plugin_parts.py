"""The Seedance tab's pure parts: Range headers, renders read from XCom rows, spend across runs, links."""

from __future__ import annotations

import pytest

from airflow_provider_seedance.campaign.manifest import Clip, ClipStatus, Manifest
from airflow_provider_seedance.contract.review import review_request
from airflow_provider_seedance.exceptions import (
    SeedanceAPIError,
    SeedanceGenerationError,
    SeedanceGenerationTimeout,
    SeedanceSaveError,
    SeedanceValidationError,
    failure_reason,
)
from airflow_provider_seedance.models import Generation
from airflow_provider_seedance.operators.seedance import FAILURE_XCOM_KEY
from airflow_provider_seedance.plugin import media
from airflow_provider_seedance.plugin.addresses import (
    anchor,
    literal_query,
    run_page,
    run_page_template,
    task_instance_query,
)
from airflow_provider_seedance.plugin.campaigns import MAX_MANIFEST_BYTES, with_review_state
from airflow_provider_seedance.plugin.ranges import ByteRange, RangeNotSatisfiable, parse_range
from airflow_provider_seedance.plugin.renders import FAILURE_KEY, XComRow, renders_of
from airflow_provider_seedance.plugin.spend import overview


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-", ByteRange(0, 999, 1000)),
        ("bytes=100-199", ByteRange(100, 199, 1000)),
        ("bytes=900-5000", ByteRange(900, 999, 1000)),
        ("bytes=-100", ByteRange(900, 999, 1000)),
        ("bytes=-5000", ByteRange(0, 999, 1000)),
        ("BYTES = 5-6", ByteRange(5, 6, 1000)),
        ("items=0-5", None),  # another unit: ignored, the whole file
        ("bytes=0-5,10-20", None),  # several ranges: the whole file
        ("bytes=abc", None),
        ("bytes=5-2", None),
        ("bytes=-", None),
    ],
)
def test_a_range_header_against_a_files_size(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_outside_the_file_is_not_satisfiable(header):
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, 1000)
    assert caught.value.content_range == "bytes */1000"


def test_a_byte_range_says_its_length_and_content_range():
    assert ByteRange(100, 199, 1000).length == 100
    assert ByteRange(100, 199, 1000).content_range == "bytes 100-199/1000"


def _row(task_id, value, key="return_value", map_index=-1, run_id="r1", run_after="2026-12-01T00:00:00"):
    return XComRow("d", run_id, task_id, map_index, key, value, run_after)


RESULT = {"generation_id": "g1", "backend": "evolink", "status": "succeeded", "credits": 40, "duration": 4}


def test_renders_are_results_of_the_video_result_shape_and_failures_with_their_reason():
    rows = [
        _row("render", {**RESULT, "output_path": "file:///v/0.mp4", "prompt": "a\nboat"}, map_index=0),
        _row("render", {**RESULT, "generation_id": "g2", "credits": True}, map_index=1),  # a bool is no price
        _row("other", {"generation_id": "x"}),  # not a result: no backend, no status
        _row("other2", [1, 2, 3]),
        _row("refused", {"reason": "failed: content_policy_violation", "backend": "evolink"}, key=FAILURE_KEY),
        _row("unsaved", {"reason": "not saved", "generation_id": "g9"}, key=FAILURE_KEY),
    ]
    renders = {(r.task_id, r.map_index): r for r in renders_of(rows)}
    assert set(renders) == {("render", 0), ("render", 1), ("refused", -1), ("unsaved", -1)}
    first = renders[("render", 0)]
    assert first.output_path == "file:///v/0.mp4" and first.credits == 40 and first.prompt == "a\\nboat"
    assert first.query == "dag_id=d&run_id=r1&task_id=render&map_index=0" and not first.failure
    assert renders[("render", 1)].credits is None
    assert renders[("refused", -1)].failure == "failed: content_policy_violation"
    assert renders[("refused", -1)].backend == "evolink"
    assert renders[("unsaved", -1)].generation_id == "g9"


def test_a_result_with_a_failure_key_from_an_earlier_try_is_a_render_not_a_failure():
    rows = [_row("t", {"reason": "timeout"}, key=FAILURE_KEY), _row("t", RESULT)]
    (render,) = renders_of(rows)
    assert render.failure is None and render.generation_id == "g1"


def test_texts_are_bounded_and_absurd_paths_dropped():
    (render,) = renders_of([_row("t", {**RESULT, "prompt": "p" * 5000, "output_path": "x" * 5000})])
    assert len(render.prompt or "") < 700 and render.output_path is None


def test_spend_per_run_and_campaign_and_outcomes_by_backend_and_reason():
    rows = [
        _row("a", {**RESULT, "credits": 40}, run_id="r1", run_after="2026-12-01"),
        _row("b", {**RESULT, "credits": 60, "backend": "modelark"}, run_id="r2", run_after="2026-12-02"),
        _row("c", {"reason": "timeout", "backend": "modelark"}, key=FAILURE_KEY, run_id="r2", run_after="2026-12-02"),
    ]
    summary = overview(renders_of(rows), {("d", "r2"): "d: spring"})
    assert [(s.run_id, s.credits, s.renders, s.failures) for s in summary.runs] == [("r1", 40, 1, 0), ("r2", 60, 1, 1)]
    assert summary.campaigns == {"d": 40.0, "d: spring": 60.0}
    assert summary.outcomes == {("evolink", "rendered"): 1, ("modelark", "rendered"): 1, ("modelark", "timeout"): 1}


def test_the_operator_leaves_its_failure_under_the_key_the_tab_reads():
    assert FAILURE_XCOM_KEY == FAILURE_KEY


def test_failure_reasons_are_short_words_without_vendor_prose():
    failed = Generation(id="g", backend="evolink", state="failed", status="failed", error_code="bad code<script>")
    assert failure_reason(SeedanceGenerationTimeout("deadline", None)) == "timeout"
    assert failure_reason(SeedanceGenerationError("x", failed)) == "failed: badcodescript"
    assert failure_reason(SeedanceGenerationError("x")) == "failed"
    assert failure_reason(SeedanceAPIError("sk-secret in text", status_code=402, code="quota")) == "HTTP 402 quota"
    assert failure_reason(SeedanceValidationError("duration", 99, "4-15")) == "invalid request"
    assert failure_reason(SeedanceSaveError("cut", generation_id="g", video_url="https://x")) == "not saved"


def test_links_to_a_runs_page_and_the_review_bodys_watch_line():
    assert run_page("d", "manual__2026+00:00", "http://af:8080/") == (
        "http://af:8080/seedance/run?dag_id=d&run_id=manual__2026%2B00%3A00"
    )
    template = run_page_template("http://af:8080")
    assert template == "http://af:8080/seedance/run?dag_id={{ dag.dag_id | urlencode }}&run_id={{ run_id | urlencode }}"
    assert anchor("g 1)") == "generation-g%201%29"
    clip = {"name": "c", "generation_id": "g-1", "url": "file:///v.mp4"}
    body = review_request("slot", [clip], "gallery", player=template)["body"]
    assert f"[play it in Airflow]({template}#generation-g-1)" in body
    assert "Watch" not in review_request("slot", [clip], "gallery")["body"]
    assert "Watch" not in review_request("slot", [{"name": "c"}], "gallery", player=template)["body"]


def _manifest(folder, *clips):
    manifest = Manifest(campaign="spring", backend="modelark", folder=str(folder), root=str(folder), videos=list(clips))
    (folder / "manifest.json").write_text(manifest.model_dump_json(), encoding="utf-8")


def test_a_campaign_clip_shows_its_review_state_and_fate_from_the_runs_manifest(tmp_path):
    clip = dict(slot="review_0", file="a.mp4")
    _manifest(
        tmp_path,
        Clip(name="a", status=ClipStatus.REJECTED, generation_id="g1", **clip),
        Clip(name="b", status=ClipStatus.APPROVED, generation_id="g2", fate="approved: published as b.mp4", **clip),
    )
    rows = [
        _row("campaign.render", RESULT, map_index=0),
        _row("campaign.render", {**RESULT, "generation_id": "g2"}, map_index=1),
        _row("elsewhere", {**RESULT, "generation_id": "g3"}),
        _row("campaign.plan", str(tmp_path), key="folder"),
    ]
    states = {r.generation_id: (r.review, r.fate, r.review_task_id) for r in with_review_state(renders_of(rows), rows)}
    assert states == {
        "g1": ("rejected", "rejected by the reviewer: not published", "review_0"),
        "g2": ("approved", "approved: published as b.mp4", "review_0"),
        "g3": (None, None, None),  # not a campaign clip: no review state
    }


@pytest.mark.parametrize("content", ["{not json", "[]", "x" * (MAX_MANIFEST_BYTES + 1)])
def test_an_unreadable_or_oversized_manifest_leaves_the_renders_without_review_state(tmp_path, content):
    (tmp_path / "manifest.json").write_text(content, encoding="utf-8")
    rows = [_row("render", RESULT), _row("plan", str(tmp_path), key="folder")]
    (render,) = with_review_state(renders_of(rows), rows)
    assert render.generation_id == "g1" and render.review is None


def _mp4(path, size):
    head = b"\x00\x00\x00\x18ftypisom"
    path.write_bytes(head + bytes(range(256)) * ((size - len(head)) // 256 + 1))
    return path.read_bytes()


def test_a_video_is_streamed_a_bounded_chunk_at_a_time_and_a_missing_one_is_none(tmp_path):
    data = _mp4(tmp_path / "v.mp4", 5 * media.CHUNK + 1000)
    found = media.locate(str(tmp_path / "v.mp4"))
    assert found is not None and found.size == len(data) and found.content_type == "video/mp4"
    start, length = 1000, 3 * media.CHUNK + 5
    handle = media.open_at(found, start)
    assert handle is not None
    parts = list(media.chunks(handle, length))
    assert max(len(p) for p in parts) <= media.CHUNK and b"".join(parts) == data[start : start + length]
    assert handle.closed
    assert media.locate(str(tmp_path / "gone.mp4")) is None
    (tmp_path / "v.mp4").unlink()
    assert media.open_at(found, 0) is None  # gone since it was located: a 404, not a cut-off answer


def test_only_a_video_the_provider_could_have_saved_is_served(tmp_path):
    """A result is only as trusted as whoever wrote the XCom: no system file, no script, no fetch."""
    _mp4(tmp_path / "ok.mov", 4096)
    assert media.locate((tmp_path / "ok.mov").as_uri()).content_type == "video/quicktime"
    (tmp_path / "x.svg").write_text("<svg><script>alert(1)</script></svg>")
    (tmp_path / "fake.mp4").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 10)
    (tmp_path / "link.mp4").symlink_to("/etc/hostname")
    for refused in (
        "/etc/passwd",
        str(tmp_path / "x.svg"),
        str(tmp_path / "fake.mp4"),  # not an ISO media file
        str(tmp_path / "link.mp4"),
        "/proc/self/environ",
        "/proc/self/../self/fd/0.mp4",
        "http://169.254.169.254/latest/meta-data.mp4",
        "https://example.com/v.mp4",
        "ftp://example.com/v.mp4",
        "nosuchscheme://bucket/v.mp4",
    ):
        assert media.locate(refused) is None, refused
    assert media.storage_path("http://127.0.0.1:9/latest") is None  # the manifest's folder too


@pytest.mark.parametrize(
    "header", ["bytes=\u00b2-", "bytes=0-\u00b2", "bytes=-\u00b2", "bytes=\u0663-\u0665", "bytes=" + "1" * 5000]
)
def test_a_range_of_other_digits_or_absurd_length_is_ignored(header):
    assert parse_range(header, 1000) is None


def test_shown_paths_drop_credentials_and_signatures_and_prices_must_be_finite():
    shown = renders_of([_row("t", {**RESULT, "output_path": "https://u:s3cr3t@host/v/a.mp4?X-Amz-Signature=abc"})])
    assert shown[0].shown_path == "https://host/v/a.mp4"
    assert renders_of([_row("t", {**RESULT, "output_path": "/data/v/a.mp4"})])[0].shown_path == "/data/v/a.mp4"
    for price in (float("inf"), float("nan"), -5):
        assert renders_of([_row("t", {**RESULT, "credits": price})])[0].credits is None


def test_a_result_that_did_not_wait_counts_as_pending_not_rendered():
    summary = overview(renders_of([_row("submit", {**RESULT, "status": "queued"})]))
    assert summary.outcomes == {("evolink", "pending"): 1} and summary.runs[0].renders == 0


def test_ids_in_a_query_keep_a_plus_and_the_packages_own_addresses_encode_a_space_as_percent_20():
    assert literal_query("dag_id=d&run_id=manual__2026-12-01T09:00:00+00:00") == {
        "dag_id": "d",
        "run_id": "manual__2026-12-01T09:00:00+00:00",
    }
    assert literal_query("run_id=a%2Bb%20c&run_id=second")["run_id"] == "a+b c"  # the first value counts
    built = task_instance_query("d", "a+b c", "t", 2)
    assert built == "dag_id=d&run_id=a%2Bb%20c&task_id=t&map_index=2"
    assert literal_query(built)["run_id"] == "a+b c"
    assert literal_query(run_page("d", "a+b c").partition("?")[2])["run_id"] == "a+b c"
