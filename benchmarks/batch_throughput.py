"""Benchmark 7, catalog scale: a campaign of renders as ONE batch task (``SeedanceBatchGenerateVideosOperator``)
against the same campaign as mapped ``SeedanceGenerateVideoOperator`` tasks, on the deployment suite's Celery
deployment (PostgreSQL, Redis, two Celery workers) with the same worker slots, one triggerer, in one run:

    .venv/bin/python -m benchmarks.batch_throughput                          # 200 mapped, 200 batch, 10,000 batch
    .venv/bin/python -m benchmarks.batch_throughput --renders 2000           # the large batch smaller
    .venv/bin/python -m benchmarks.batch_throughput --renders 0 --baseline 20 --render-s 10   # a smoke run
    .venv/bin/python -m benchmarks.batch_throughput --save-in-triggerer --stock-media        # as measured at 10,000

Per campaign: wall time (the DAG run's end - start), the phases of each ``generate`` task instance (sampled
from the metadata database by ``benchmarks.throughput.StateSampler``), worker slot-seconds (time task instances
spent running), and the emulator's request log (creates, polls, downloads). The ideal of a batch is one render
plus its creates and saves at the emulator's rate: N / create rate + render + N / save rate, the rates measured
in the same run by ``benchmarks.batch_probe`` (the batch's own create and save code, same concurrency, no
Airflow). The triggerer's memory is sampled from /proc (VmRSS of each process of its tree every second, and
VmHWM after resetting it when the campaign starts). Writes benchmarks/results-batch.json and the rows of
BENCHMARKS.md section 7 (benchmarks/batch.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, machine, run_json
from benchmarks.throughput import PHASES, StateSampler, _median, phases

ROOT = Path(__file__).resolve().parent.parent
BATCH_DAG, MAPPED_DAG = "bench_batch_one", "bench_batch_mapped"


def _status_kb(pid: int) -> dict[str, int]:
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                fields[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return fields


class RssSampler(threading.Thread):
    """VmRSS (kB) of every process of the triggerer's tree, every ``interval`` s: ``samples[pid]`` = [(t, kB)]."""

    def __init__(self, root_pid: int, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.samples: dict[int, list[tuple[float, int]]] = {}
        self.names: dict[int, str] = {}
        self.stop_event = threading.Event()

    def pids(self) -> list[int]:
        from tests.deployment.processes import cmdline, descendants

        pids = [self.root_pid, *descendants(self.root_pid)]
        for pid in pids:
            self.names.setdefault(pid, cmdline(pid)[:80])
        return pids

    def run(self) -> None:
        while not self.stop_event.is_set():
            now = time.time()
            for pid in self.pids():
                rss = _status_kb(pid).get("VmRSS")
                if rss is not None:
                    self.samples.setdefault(pid, []).append((now, rss))
            self.stop_event.wait(self.interval)

    def reset_hwm(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := the current VmRSS

    def window(self, start: float, end: float, before: float) -> dict[str, Any]:
        """Per process: the median RSS in the ``before`` s before ``start``, the peak between start and end."""
        rows = {}
        for pid, samples in self.samples.items():
            base = [kb for t, kb in samples if start - before <= t < start]
            during = [kb for t, kb in samples if start <= t <= end]
            if base and during:
                rows[str(pid)] = {
                    "cmd": self.names.get(pid, "?"),
                    "before_mb": _median(base) / 1024,
                    "peak_mb": max(during) / 1024,
                    "hwm_mb": _status_kb(pid).get("VmHWM", 0) / 1024,
                }
        return rows


def run_campaign(
    deploy: Any, emulator: Any, rss: RssSampler, dag_id: str, renders: int, render_s: float
) -> dict[str, Any]:
    """One DAG run of ``renders`` renders; what it took, from the database, the emulator and /proc."""
    emulator.reset()
    rss.reset_hwm()
    run_id = f"{dag_id}-{renders}-{secrets.token_hex(3)}"
    prompts = [f"[render:{render_s:g}] product {i} on a white table, {run_id}" for i in range(renders)]
    deploy.trigger(dag_id, {"prompts": prompts}, run_id)
    sampler = StateSampler(deploy, dag_id, run_id)
    sampler.start()
    sizes: dict[str, Any] = {}
    deadline = time.monotonic() + render_s + renders * 2.0 + 1800
    while True:
        deploy.check_services()
        state = deploy.query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (dag_id, run_id))[0][0]
        if state in ("success", "failed"):
            break
        if dag_id == BATCH_DAG and not sizes and any(s == "deferred" for s, _ in sampler.seen.get(-1, [])):
            sizes = _row_sizes(deploy, dag_id, run_id)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{run_id} still {state}")
        time.sleep(3.0)
    sampler.stop_event.set()
    sampler.join(timeout=10)
    (run_start, run_end), *_ = deploy.query(
        "SELECT start_date, end_date FROM dag_run WHERE dag_id = %s AND run_id = %s", (dag_id, run_id)
    )
    rows = deploy.query(
        "SELECT map_index, state, try_number FROM task_instance "
        "WHERE dag_id = %s AND run_id = %s AND task_id = 'generate'",
        (dag_id, run_id),
    )
    sizes.update(_row_sizes(deploy, dag_id, run_id, after=True))
    statuses = _item_statuses(deploy, dag_id, run_id) if dag_id == BATCH_DAG else {"succeeded": 0}
    marks = _log_marks(deploy, run_id) if dag_id == BATCH_DAG else {}
    log = emulator.requests()
    per_ti = {i: p for i, h in sampler.seen.items() if (p := phases(h))}
    creates = sorted(r["ts"] for r in log if r["kind"] == "create")
    downloads = sorted((r["ts"], r["ts"] + r["duration_ms"] / 1000) for r in log if r["kind"] == "download")
    slot_seconds = sum(p["execute"] + p["save"] for p in per_ti.values())
    wall = (run_end - run_start).total_seconds()
    batch = dag_id == BATCH_DAG
    deferred, fired = _trigger_window(sampler.seen)
    t0 = run_start.timestamp()
    return {
        "mode": "batch" if batch else "mapped",
        "renders": renders,
        "render_s": render_s,
        "state": state,
        "succeeded": sum(1 for r in rows if r[1] == "success")
        if dag_id == MAPPED_DAG
        else statuses.get("succeeded", 0),
        "item_statuses": statuses,
        "task_instances": len(rows),
        "wall_s": wall,
        "slot_seconds": slot_seconds,
        "slot_seconds_per_render": slot_seconds / max(1, renders),
        "median_s": {phase: _median([p[phase] for p in per_ti.values()]) for phase in PHASES},
        "total_s": {phase: sum(p[phase] for p in per_ti.values()) for phase in PHASES},
        "creates": len(creates),
        "polls": sum(1 for r in log if r["kind"] == "poll"),
        "downloads": len(downloads),
        "first_create_s": creates[0] - t0 if creates else None,
        "last_create_s": creates[-1] - t0 if creates else None,
        "create_span_s": creates[-1] - creates[0] if creates else None,
        "first_download_s": downloads[0][0] - t0 if downloads else None,
        "download_span_s": max(end for _, end in downloads) - downloads[0][0] if downloads else None,
        "triggerer_rss": rss.window(deferred, fired, 30.0) if deferred and fired else {},
        "sizes": sizes,
        "log_marks_s": {k: v - t0 if isinstance(v, float) else v for k, v in marks.items()},
    }


def _log_marks(deploy: Any, run_id: str) -> dict[str, Any]:
    """First time of each of the batch task's log lines that start a step, and how many state store warnings."""
    marks: dict[str, Any] = {"state_store_warnings": 0}
    for path in deploy.task_log_files():
        if run_id not in str(path) or "task_id=generate" not in str(path):
            continue
        for line in path.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            text = str(event.get("event", ""))
            marks["state_store_warnings"] += "max_value_storage_bytes" in text
            stamp = event.get("timestamp")
            for label, prefix in (
                ("validated", "Batch of"),
                ("deferring", "Deferring"),
                ("saving", "Saving"),
                ("ended", "Batch of"),
            ):
                if text.startswith(prefix) and stamp and (label != "ended" or "ended" in text):
                    marks.setdefault(label, _stamp(stamp))
    return marks


def _stamp(text: str) -> float:
    import datetime

    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _item_statuses(deploy: Any, dag_id: str, run_id: str) -> dict[str, int]:
    """The batch's items by status, from its return value (or its results XCom when the policy failed it)."""
    for key in ("return_value", "seedance_batch_results"):
        try:
            results = deploy.xcom(dag_id, run_id, "generate", key=key)
        except Exception:  # no such XCom
            continue
        counts: dict[str, int] = {}
        for result in results:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        return counts
    return {}


def _trigger_window(seen: dict[int, list[tuple[str, float]]]) -> tuple[float | None, float | None]:
    """From the first task instance's deferral to the last trigger's event (scheduled again after deferred)."""
    starts, ends = [], []
    for history in seen.values():
        deferred = next((t for s, t in history if s == "deferred"), None)
        if deferred is not None:
            starts.append(deferred)
            ends += [t for s, t in history if s in ("scheduled", "queued") and t > deferred][:1]
    return (min(starts), max(ends)) if starts and ends else (None, None)


def _row_sizes(deploy: Any, dag_id: str, run_id: str, after: bool = False) -> dict[str, Any]:
    """Bytes of the big rows a batch writes: the trigger's kwargs (while deferred), the return value XCom and the
    event the task resumed with (after)."""
    if not after:
        rows = deploy.query(
            "SELECT length(t.kwargs::text) FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
            "WHERE ti.dag_id = %s AND ti.run_id = %s",
            (dag_id, run_id),
        )
        return {"trigger_kwargs_bytes": rows[0][0] if rows else None}
    xcom = deploy.query(
        "SELECT key, length(value::text) FROM xcom WHERE dag_id = %s AND run_id = %s AND task_id = 'generate' "
        "AND map_index = -1",
        (dag_id, run_id),
    )
    return {f"xcom_{key}_bytes": size for key, size in xcom}


def probe_rates(emulator: Any, n: int, concurrency: int, api_key: str) -> dict[str, Any]:
    """The emulator's create and save rates through the batch's own code, without Airflow (``batch_probe``)."""
    emulator.reset()
    with tempfile.TemporaryDirectory(prefix="seedance-probe-") as home:
        conn = {"conn_type": "seedance", "password": api_key, "host": emulator.base_url("evolink")}
        env = {
            "AIRFLOW_HOME": home,
            "AIRFLOW_CONN_SEEDANCE_PROBE": json.dumps({**conn, "extra": {"backend": "evolink"}}),
        }
        argv = [PYTHON, "-m", "benchmarks.batch_probe", str(n), str(concurrency), home + "/videos"]
        return dict(run_json(argv, env=env, timeout=1800, log=Path(home) / "probe.log"))


def add_ideal(result: dict[str, Any], probe: dict[str, Any], slots: int) -> None:
    n, render_s = result["renders"], result["render_s"]
    if result["mode"] == "batch":
        result["ideal_s"] = n / probe["create_per_s"] + render_s + n / probe["save_per_s"]
    else:  # as section 6: one render + the submits through the slots at the median execute + one median save
        med = result["median_s"]
        result["ideal_s"] = render_s + n * med["execute"] / slots + med["save"]
    result["wall_vs_ideal"] = result["wall_s"] / result["ideal_s"]


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from airflow_provider_seedance.emulator.server import EmulatorProcess
    from tests.deployment.harness import Deployment, check_broker

    api_key = "sk-bench-" + secrets.token_hex(8)
    stock = ("--stock-media",) if args.stock_media else ()
    emulator = EmulatorProcess(api_key=api_key, render_seconds=args.render_s, extra_args=stock).start()
    conn = {
        "conn_type": "seedance",
        "password": api_key,
        "host": emulator.base_url("evolink"),
        "extra": {"backend": "evolink"},
    }
    deploy = Deployment(
        connections={"seedance_evolink": conn},
        executor="CeleryExecutor",
        broker_url=check_broker("redis"),
        celery_workers=2,
        worker_concurrency=args.slots // 2,
        parallelism=args.slots,
        triggerers=1,
        extra_env={
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "benchmarks" / "dags"),
            "SEEDANCE_BENCH_BATCH_CONCURRENCY": str(args.concurrency),
            "SEEDANCE_BENCH_BATCH_SAVE_IN_TRIGGERER": "1" if args.save_in_triggerer else "",
        },
    )
    out: dict[str, Any] = {
        "command": args.command,
        "machine": machine(),
        "slots": args.slots,
        "concurrency": args.concurrency,
        "save_in_triggerer": args.save_in_triggerer,
        "stock_media": args.stock_media,
        "campaigns": [],
    }
    rss = None
    try:
        started = time.time()
        deploy.start()
        for name in deploy.workers:
            deploy.wait_worker_ready(name)
        deploy.wait_for_dag(BATCH_DAG)
        deploy.wait_for_dag(MAPPED_DAG)
        out["startup_s"] = time.time() - started
        rss = RssSampler(deploy.services["triggerer-1"].pid)
        rss.start()
        _log(f"probe: {args.probe} creates and saves at concurrency {args.concurrency}")
        out["probe"] = probe_rates(emulator, args.probe, args.concurrency, api_key)
        plan = [(BATCH_DAG, args.baseline), (MAPPED_DAG, args.baseline), (BATCH_DAG, args.renders)]
        for dag_id, renders in plan:
            if renders <= 0 or (dag_id == MAPPED_DAG and args.skip_mapped):
                continue
            _log(f"{dag_id}: {renders} x {args.render_s:g} s")
            result = run_campaign(deploy, emulator, rss, dag_id, renders, args.render_s)
            add_ideal(result, out["probe"], args.slots)
            out["campaigns"].append(result)
            Path(args.out).write_text(json.dumps(out, indent=1, default=str) + "\n")
            _log(json.dumps({k: result[k] for k in ("mode", "renders", "state", "wall_s", "ideal_s")}, default=str))
    finally:
        if rss is not None:
            rss.stop_event.set()
        deploy.stop()
        deploy.cleanup_home()
        emulator.stop()
    return out


def _log(text: str) -> None:
    print(f"[batch {time.strftime('%H:%M:%S')}] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.batch_report import section

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=10_000, help="the large batch (0: none)")
    parser.add_argument(
        "--baseline", type=int, default=200, help="the campaign run both as mapped tasks and as a batch"
    )
    parser.add_argument("--render-s", type=float, default=60.0)
    parser.add_argument("--slots", type=int, default=4, help="worker slots: 2 Celery workers x slots/2")
    parser.add_argument("--concurrency", type=int, default=8, help="the batch's max_concurrency (and the probe's)")
    parser.add_argument(
        "--probe", type=int, default=2000, help="renders of 0 s the rate probe creates and saves (200 varied 2x)"
    )
    parser.add_argument("--skip-mapped", action="store_true")
    parser.add_argument(
        "--save-in-triggerer", action="store_true", help="the batch saves in the triggerer (save_in_triggerer=True)"
    )
    parser.add_argument(
        "--stock-media",
        action="store_true",
        help="the emulator serves one stock clip per shape instead of encoding one per generation (its encoder, "
        "not the provider, bounded the save rate at 2,000)",
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results-batch.json"))
    parser.add_argument("--section", default=str(ROOT / "benchmarks" / "batch.md"), help="BENCHMARKS.md section 7")
    args = parser.parse_args(argv)
    args.command = " ".join(["python -m benchmarks.batch_throughput", *(sys.argv[1:] if argv is None else argv)])
    out = run_all(args)
    Path(args.section).write_text(section(out, args.command))
    print(Path(args.section).read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
