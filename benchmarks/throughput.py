"""Benchmark 6, throughput at scale: a campaign of N mapped renders of R s (default 200 x 60 s, across the
three backends) on the deployment suite's Celery deployment (Redis, two Celery workers) and on its
LocalExecutor deployment, with the same number of worker slots; where the time goes, read from Airflow's own
task-instance rows.

    .venv/bin/python -m benchmarks.throughput                      # 200 x 60 s on both executors
    .venv/bin/python -m benchmarks.throughput --renders 40 --render-s 20 --executors celery   # a smoke run

Each task instance's state is sampled from the metadata database every 0.5 s (the transitions
scheduled -> queued -> running -> deferred -> scheduled -> queued -> running -> success), and the emulator's
request log gives each generation's create and download. Phases per render:
  queued   first scheduled (or queued) -> first running: waiting for the scheduler and a worker slot
  execute  first running -> deferred: task process start, DAG parse, submit, persist the id, defer
  trigger  deferred -> the trigger fired (scheduled again): the render itself, plus how late it was seen
  resume   scheduled again -> running again: waiting for the scheduler and a worker slot
  save     running again -> success: task process start, DAG parse, download, save, XCom
Worker slot-seconds = the time task instances spent running. Ideal wall time = one render + the time the
submits of N renders take through the worker slots at the measured median execute time
(N x median execute / slots) + one median save. Writes benchmarks/results-throughput.json and prints the
rows BENCHMARKS.md section 6 shows.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("evolink", "aimlapi", "modelark")
PHASES = ("queued", "execute", "trigger", "resume", "save")


class StateSampler(threading.Thread):
    """Every ``interval`` s: the state of each task instance of one run, with the time it was first seen."""

    def __init__(self, deploy: Any, dag_id: str, run_id: str, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.deploy, self.dag_id, self.run_id, self.interval = deploy, dag_id, run_id, interval
        self.seen: dict[int, list[tuple[str, float]]] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        with self.deploy.db() as conn:
            while not self.stop_event.is_set():
                now = time.time()
                with conn.cursor() as cur:
                    cur.execute(
                        "SELECT map_index, state FROM task_instance WHERE dag_id = %s AND run_id = %s "
                        "AND task_id = 'generate'",
                        (self.dag_id, self.run_id),
                    )
                    for index, state in cur.fetchall():
                        history = self.seen.setdefault(int(index), [])
                        if state and (not history or history[-1][0] != state):
                            history.append((str(state), now))
                self.stop_event.wait(self.interval)


def phases(history: list[tuple[str, float]]) -> dict[str, float] | None:
    """Seconds per phase from one task instance's sampled transitions (None when a step was not seen)."""

    def first(state: str, after: float = 0.0) -> float | None:
        return next((t for s, t in history if s == state and t >= after), None)

    run1 = first("running")
    deferred = first("deferred")
    if run1 is None or deferred is None:
        return None
    # the first scheduled/queued seen before running (a task scheduled, queued and started between two samples
    # is first seen running: queued 0, not the scheduled of its resume)
    start = next((t for s, t in history if s in ("scheduled", "queued") and t <= run1), run1)
    fired = next((t for s, t in history if s in ("scheduled", "queued") and t > deferred), None)
    run2 = first("running", deferred)
    done = first("success", deferred)
    if fired is None or run2 is None or done is None:
        return None
    return {
        "queued": run1 - start,
        "execute": deferred - run1,
        "trigger": fired - deferred,
        "resume": run2 - fired,
        "save": done - run2,
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_campaign(executor: str, renders: int, render_s: float, slots: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from airflow_provider_seedance.emulator.server import EmulatorProcess
    from tests.deployment.harness import Deployment, check_broker

    api_key = "sk-bench-" + secrets.token_hex(8)
    emulator = EmulatorProcess(api_key=api_key, render_seconds=render_s).start()
    connections = {
        f"seedance_{b}": {
            "conn_type": "seedance",
            "password": api_key,
            "host": emulator.base_url(b),
            "extra": {"backend": b},
        }
        for b in BACKENDS
    }
    if executor == "celery":
        deploy = Deployment(
            connections=connections,
            executor="CeleryExecutor",
            broker_url=check_broker("redis"),
            celery_workers=2,
            worker_concurrency=slots // 2,
            parallelism=slots,
        )
    else:
        deploy = Deployment(connections=connections, parallelism=slots)
    result: dict[str, Any] = {"executor": executor, "renders": renders, "render_s": render_s, "slots": slots}
    try:
        started = time.time()
        deploy.start()
        for name in deploy.workers:
            deploy.wait_worker_ready(name)
        deploy.wait_for_dag("seedance_deploy_batch")
        result["startup_s"] = time.time() - started
        items = [
            {"backend": BACKENDS[i % 3], "prompt": f"[render:{render_s:g}] a city at night, shot {i}"}
            for i in range(renders)
        ]
        run_id = f"throughput-{executor}-{secrets.token_hex(3)}"
        deploy.trigger("seedance_deploy_batch", {"items": items}, run_id)
        sampler = StateSampler(deploy, "seedance_deploy_batch", run_id)
        sampler.start()
        run = deploy.wait_for_run("seedance_deploy_batch", run_id, timeout=renders * 30 + 1800, interval=5.0)
        sampler.stop_event.set()
        sampler.join(timeout=10)
        rows = deploy.query(
            "SELECT map_index, state, start_date, end_date, queued_dttm, scheduled_dttm, try_number "
            "FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = 'generate'",
            ("seedance_deploy_batch", run_id),
        )
        run_rows = deploy.query(
            "SELECT start_date, end_date FROM dag_run WHERE dag_id = %s AND run_id = %s",
            ("seedance_deploy_batch", run_id),
        )
        log = emulator.requests()
    finally:
        deploy.stop()
        deploy.cleanup_home()
        emulator.stop()

    run_start, run_end = run_rows[0]
    per_ti = {index: phases(history) for index, history in sampler.seen.items()}
    complete = {i: p for i, p in per_ti.items() if p}
    slot_seconds = sum(p["execute"] + p["save"] for p in complete.values())
    creates = sorted(r["ts"] for r in log if r["kind"] == "create")
    downloads = sorted(r["ts"] for r in log if r["kind"] == "download")
    wall = (run_end - run_start).total_seconds()
    med = {phase: _median([p[phase] for p in complete.values()]) for phase in PHASES}
    ideal = render_s + renders * med["execute"] / slots + med["save"]
    result.update(
        {
            "state": run["state"],
            "succeeded": sum(1 for r in rows if r[1] == "success"),
            "retries": sum(max(0, int(r[6]) - 1) for r in rows),
            "wall_s": wall,
            "ideal_s": ideal,
            "wall_vs_ideal": wall / ideal,
            "slot_seconds": slot_seconds,
            "slot_seconds_per_render": slot_seconds / max(1, len(complete)),
            "phases_complete": len(complete),
            "median_s": med,
            "p90_s": {
                phase: sorted(p[phase] for p in complete.values())[int(0.9 * (len(complete) - 1))] for phase in PHASES
            }
            if complete
            else {},
            "total_s": {phase: sum(p[phase] for p in complete.values()) for phase in PHASES},
            "first_create_s": creates[0] - run_start.timestamp() if creates else None,
            "last_create_s": creates[-1] - run_start.timestamp() if creates else None,
            "last_download_s": downloads[-1] - run_start.timestamp() if downloads else None,
            "creates": len(creates),
        }
    )
    return result


def table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| executor | renders x s | slots | ok | wall s | ideal s | wall / ideal | slot-s per render | "
        "last create at s | median queued / execute / trigger / resume / save s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        med = r["median_s"]
        lines.append(
            f"| {r['executor']} | {r['renders']} x {r['render_s']:g} | {r['slots']} | {r['succeeded']} | "
            f"{r['wall_s']:.0f} | {r['ideal_s']:.0f} | {r['wall_vs_ideal']:.2f}x | "
            f"{r['slot_seconds_per_render']:.1f} | {r['last_create_s']:.0f} | "
            + " / ".join(f"{med[p]:.1f}" for p in PHASES)
            + " |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--render-s", type=float, default=60.0)
    parser.add_argument(
        "--slots", type=int, default=16, help="worker slots: LocalExecutor parallelism, 2 Celery workers x slots/2"
    )
    parser.add_argument("--executors", default="celery,local")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results-throughput.json"))
    parser.add_argument("--section", default=str(ROOT / "benchmarks" / "throughput.md"), help="BENCHMARKS.md section 6")
    args = parser.parse_args(argv)
    results = []
    for executor in args.executors.split(","):
        print(f"[throughput {time.strftime('%H:%M:%S')}] {executor}: {args.renders} x {args.render_s:g} s", flush=True)
        results.append(run_campaign(executor, args.renders, args.render_s, args.slots))
        Path(args.out).write_text(json.dumps(results, indent=1, default=str) + "\n")
    print("\n".join(table(results)))
    Path(args.section).write_text(
        section(results, " ".join(["python -m benchmarks.throughput", *(argv or sys.argv[1:])]))
    )
    return 0


def section(results: list[dict[str, Any]], command: str) -> str:
    """BENCHMARKS.md section 6 (``make bench`` includes this file when it rewrites BENCHMARKS.md)."""
    lines = [
        "## 6. Throughput at scale",
        "",
        f"Command: `{command}` (`make bench-throughput`; not part of `make bench`), "
        + time.strftime("%Y-%m-%d %H:%M UTC.", time.gmtime()),
        "",
        "A campaign of mapped renders across the three backends (the deployment suite's `seedance_deploy_batch` DAG) "
        "on the deployment suite's Celery deployment (Redis, two Celery workers, two triggerers) and on its "
        "LocalExecutor deployment with the same number of worker slots. Phases per render from each task "
        "instance's states, sampled from the metadata database every 0.5 s (queued: scheduled -> running; "
        "execute: running -> deferred; trigger: deferred -> scheduled again; resume: scheduled again -> running; "
        "save: running -> success). Ideal = one render + N x median execute / slots + median save. "
        "Slot-seconds = time task instances spent running.",
        "",
        *table(results),
        "",
        "| executor | phase | median s | p90 s | total s over all renders |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for phase in PHASES:
            lines.append(
                f"| {r['executor']} | {phase} | {r['median_s'][phase]:.1f} | "
                f"{r['p90_s'].get(phase, float('nan')):.1f} | {r['total_s'][phase]:.0f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
