"""The in-process render-time memory: median of the last renders per spec, bounded, thread-safe."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from airflow_provider_seedance.models import VideoRequest
from airflow_provider_seedance.polling._render_memory import RenderMemory, render_key, render_spec

KEY = render_key("modelark", {"model": "seedance-1-0-pro-fast-251015", "duration": 5, "quality": "720p"})


def test_nothing_is_typical_until_enough_renders_are_known():
    memory = RenderMemory(min_samples=3)
    assert memory.typical(KEY) is None
    memory.record(KEY, 50.0)
    memory.record(KEY, 70.0)
    assert memory.typical(KEY) is None
    memory.record(KEY, 61.0)
    assert memory.typical(KEY) == 61.0


def test_the_median_of_the_last_samples_shrugs_off_an_outlier_and_forgets_old_renders():
    memory = RenderMemory(samples=5, min_samples=1)
    for seconds in (200.0, 200.0, 200.0, 60.0, 61.0, 59.0, 900.0, 62.0):
        memory.record(KEY, seconds)
    # The three 200 s renders fell out of the last five; the 900 s straggler does not move the median.
    assert memory.count(KEY) == 5
    assert memory.typical(KEY) == 61.0


def test_keys_are_bounded_least_recently_used_first():
    memory = RenderMemory(max_keys=2, min_samples=1)
    a, b, c = (render_key("aimlapi", {"model": m}) for m in "abc")
    memory.record(a, 10.0)
    memory.record(b, 20.0)
    assert memory.typical(a) == 10.0  # a read counts as a use: b is now the oldest
    memory.record(c, 30.0)
    assert len(memory) == 2
    assert memory.typical(b) is None
    assert (memory.typical(a), memory.typical(c)) == (10.0, 30.0)


@pytest.mark.parametrize("seconds", [0.0, -3.0, float("inf"), float("nan")])
def test_nonsense_times_are_ignored(seconds):
    memory = RenderMemory(min_samples=1)
    memory.record(KEY, seconds)
    assert memory.count(KEY) == 0 and memory.typical(KEY) is None


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="min_samples"):
        RenderMemory(samples=3, min_samples=4)
    with pytest.raises(ValueError, match="max_keys"):
        RenderMemory(max_keys=0)


def test_the_spec_holds_what_render_time_depends_on_and_never_the_prompt():
    request = VideoRequest(
        model="seedance-1-0-pro-fast-251015",
        prompt="a secret product launch",
        image_urls=("https://private.example/frame.png",),
        duration=5,
        quality="720p",
    )
    spec = render_spec(request)
    assert spec == {"model": "seedance-1-0-pro-fast-251015", "duration": 5, "quality": "720p", "service_tier": None}
    text = json.dumps(spec)  # a trigger kwarg: plain JSON
    assert "secret" not in text and "private.example" not in text
    # The key is the same after a JSON round trip (how a triggerer reads kwargs back).
    assert render_key("modelark", json.loads(text)) == render_key("modelark", spec)
    assert render_key("modelark", spec) != render_key("aimlapi", spec)
    assert render_key("modelark", spec) != render_key("modelark", {**spec, "duration": 10})


def test_records_from_many_threads_are_all_kept_within_bounds():
    memory = RenderMemory(max_keys=8, samples=1000, min_samples=1)
    keys = [render_key("evolink", {"model": f"m{i}"}) for i in range(4)]

    def work(offset: int) -> None:
        for n in range(500):
            memory.record(keys[(n + offset) % 4], 1.0 + n)
            memory.typical(keys[n % 4])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(memory.count(key) for key in keys) == 8 * 500
    assert len(memory) == 4


async def test_learned_returns_once_enough_renders_are_known_and_leaves_no_waiter():
    memory = RenderMemory(min_samples=3)
    key = render_key("modelark", {"model": "m", "duration": 5})
    waiter = asyncio.ensure_future(memory.learned(key))
    memory.record(key, 10.0)
    memory.record(key, 11.0)
    await asyncio.sleep(0)
    assert not waiter.done() and memory.waiting() == 1
    memory.record(key, 12.0)
    await asyncio.wait_for(waiter, 5)
    assert memory.waiting() == 0
    await asyncio.wait_for(memory.learned(key), 5)  # known already: at once

    other = render_key("modelark", {"model": "m", "duration": 10})
    cancelled = asyncio.ensure_future(memory.learned(other))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert memory.waiting() == 0


def test_typical_time_is_the_memorys_rule_on_any_list_of_samples():
    from airflow_provider_seedance.polling._render_memory import typical_time

    assert typical_time([60.0, 61.0]) is None  # fewer than MIN_SAMPLES
    assert typical_time([60.0, 61.0, 900.0]) == 61.0  # a straggler does not move the median
    # Junk read back from JSON is skipped, not trusted: negatives, zero, infinities, bools, strings.
    assert typical_time([60.0, -1, 0, float("inf"), True, "70", 62.0, 59.0]) == 60.0
    # Only the last SAMPLES count: older renders are forgotten.
    assert typical_time([200.0] * 30 + [60.0] * 20) == 60.0
    assert typical_time([200.0] * 30 + [60.0] * 20, last=25) == 60.0
    assert typical_time([5.0], min_samples=1) == 5.0


def _result(render_s, history=None, **overrides):
    result = {
        "generation_id": "g",
        "backend": "aimlapi",
        "model": "bytedance/seedance-1-0-lite-t2v",
        "status": "succeeded",
        "duration": 5,
        "quality": "720p",
        "service_tier": None,
        "prompt": "a secret prompt",
        "elapsed_s": (render_s or 0) + 14.0,
        "render_s": render_s,
        "render_history": history,
    }
    return {**result, **overrides}


def test_samples_from_results_keeps_the_same_backend_and_spec_only():
    from airflow_provider_seedance.polling._render_memory import samples_from_results

    spec = {"model": "bytedance/seedance-1-0-lite-t2v", "duration": 5, "quality": "720p", "service_tier": None}
    results = [
        _result(60.0, [50.0, 51.0]),
        _result(61.0, [50.0]),
        _result(99.0, backend="modelark"),
        _result(98.0, duration=10),
        _result(97.0, quality="1080p"),
        _result(96.0, status="failed"),
        _result(None),  # no render time known (attached to an already finished render)
        {k: v for k, v in _result(95.0).items() if k != "render_s"},  # written before render_s existed
        None,  # a map index with no result
        "not a result",
    ]
    # The longest history first (oldest), then each matching result's own time; elapsed_s is never read.
    assert samples_from_results(results, "aimlapi", spec) == [50.0, 51.0, 60.0, 61.0]
    assert samples_from_results([], "aimlapi", spec) == []
    many = [_result(float(s), [1.0] * 30) for s in range(100, 130)]
    assert len(samples_from_results(many, "aimlapi", spec)) == 20  # bounded like the memory
