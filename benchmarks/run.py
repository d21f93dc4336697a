"""Runs every benchmark against the emulator (its own process, loopback), prints a table and writes
BENCHMARKS.md (a full run) or benchmarks/results-latest.md (any other run), the raw results as JSON beside
it (benchmarks/results.json for the full run) and plots under benchmarks/.

    .venv/bin/python -m benchmarks            # the full run recorded in BENCHMARKS.md (about 20 minutes)
    .venv/bin/python -m benchmarks --quick    # a smoke run in about 6 minutes
    .venv/bin/python -m benchmarks --only fanout,save --core /tmp/scratch   # a scratch copy of the core
    .venv/bin/python -m benchmarks --render-only benchmarks/results.json   # re-render BENCHMARKS.md

Needs: curl (saving), PostgreSQL as tests/deployment/harness.py describes (worker slots), PyPI access
once (the peers' providers go into benchmarks/.venv-peers), matplotlib for the plots (skipped without).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.common import BENCH_DIR, ROOT, emulator, machine, make_tls_files

ALL = ("polls", "parse", "save", "fanout", "slots")

FULL: dict[str, Any] = {
    "fanout_ns": [100, 1000, 5000, 10000],
    "fanout_render": (30.0, 60.0),
    "baseline_n": 500,
    "baseline_render": (15.0, 30.0),
    "baselines": ["shared", "new_client", "to_thread", "sync_in_loop"],
    "parse_reps": 5,
    "save_reps": 3,
    "save_size": 500 * 1024 * 1024,
    "slots": {"deferrable_n": 40, "polling_n": 4, "render_s": 60.0},
}
QUICK: dict[str, Any] = {
    "fanout_ns": [100, 1000],
    "fanout_render": (10.0, 20.0),
    "baseline_n": 200,
    "baseline_render": (5.0, 10.0),
    "baselines": ["shared", "new_client", "to_thread", "sync_in_loop"],
    "parse_reps": 3,
    "save_reps": 1,
    "save_size": 100 * 1024 * 1024,
    "slots": {"deferrable_n": 8, "polling_n": 4, "render_s": 15.0},
}


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_fanout(config: dict[str, Any], workdir: Path, tls_files: Any) -> list[dict[str, Any]]:
    from benchmarks.fanout import run_side_by_side

    rows: list[dict[str, Any]] = []
    for tls in (None, tls_files):
        protocol = "tls" if tls else "http"
        with emulator(tls) as emu:
            low, high = config["fanout_render"]
            # The light runs (N <= 1,000: a few % of a core) go side by side to save their render time.
            light = [n for n in config["fanout_ns"] if n <= 1000]
            groups = ([light] if light else []) + [[n] for n in config["fanout_ns"] if n > 1000]
            for group in groups:
                _log(f"fan-out {protocol} shared N={'+'.join(map(str, group))} (renders {low:.0f}-{high:.0f} s)")
                runs = [("shared", n) for n in group]
                for row in run_side_by_side(emu, tls, runs, workdir, render_min=low, render_max=high):
                    rows.append({"set": "sweep", **row})
                    _log(f"  -> N={row['n']}: {_fanout_line(row)}")
            low, high = config["baseline_render"]
            n = config["baseline_n"]
            for variant in config["baselines"]:
                _log(f"fan-out {protocol} {variant} N={n} (renders {low:.0f}-{high:.0f} s)")
                [row] = run_side_by_side(emu, tls, [(variant, n)], workdir, render_min=low, render_max=high)
                rows.append({"set": "baselines", **row})
                _log(f"  -> {_fanout_line(row)}")
    return rows


def _fanout_line(row: dict[str, Any]) -> str:
    return (
        f"{row['finished']}/{row['n']} done, {row['cpu_per_poll_ms']:.2f} ms CPU/poll, "
        f"{row['kb_per_trigger_peak']:.1f} KB/trigger, lag p50/p99 {row['lag_p50_ms']:.1f}/{row['lag_p99_ms']:.0f} ms, "
        f"late p50/p99 {row['late_p50_s']:.1f}/{row['late_p99_s']:.1f} s, {row['polls_per_render']:.2f} polls/render"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N and short renders: a smoke run")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--core", default=None, help="measure a scratch copy of airflow_provider_seedance in DIR")
    parser.add_argument("--output", default=None, help="markdown report path (default: BENCHMARKS.md for a full run)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs of every process)")
    parser.add_argument(
        "--render-only",
        metavar="RESULTS_JSON",
        default=None,
        help="only re-render the report (and plots) from a results file of an earlier run",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        from benchmarks import report

        saved = json.loads(Path(args.render_only).read_text())
        is_full = saved["command"].strip() == "python -m benchmarks"
        target = (
            Path(args.output)
            if args.output
            else (ROOT / "BENCHMARKS.md" if is_full else BENCH_DIR / "results-latest.md")
        )
        is_full = is_full and target.resolve() == ROOT / "BENCHMARKS.md"
        target.write_text(report.render(saved, plots_dir=BENCH_DIR, full=is_full, prefix=target.stem + "-"))
        print(report.summary_table(saved))
        return 0
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.core:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (args.core, os.environ.get("PYTHONPATH")) if p)
        sys.path.insert(0, args.core)
    config = QUICK if args.quick else FULL
    full_run = not args.quick and only == list(ALL) and not args.core
    default_output = ROOT / "BENCHMARKS.md" if full_run else BENCH_DIR / "results-latest.md"
    output = Path(args.output) if args.output else default_output
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])

    workdir = Path(tempfile.mkdtemp(prefix="seedance-bench-"))
    results: dict[str, Any] = {"machine": machine(), "command": command.strip(), "config": config, "errors": {}}
    started = time.time()
    _log(f"work directory {workdir}")
    tls_files = make_tls_files(workdir / "tls")
    try:
        for name in only:
            began = time.time()
            try:
                if name == "polls":
                    from benchmarks import polls

                    _log("polls per render (virtual clock)")
                    results["polls"] = polls.run()
                elif name == "parse":
                    from benchmarks import parse_cost

                    _log("DAG parse cost")
                    results["parse"] = parse_cost.run(config["parse_reps"])
                elif name == "save":
                    from benchmarks import saving

                    results["save"] = []
                    for tls in (None, tls_files):
                        _log(f"saving {config['save_size'] >> 20} MB over {'tls' if tls else 'http'}")
                        with emulator(tls) as emu:
                            results["save"].append(
                                saving.run(emu, tls, workdir, config["save_reps"], config["save_size"])
                            )
                elif name == "fanout":
                    results["fanout"] = run_fanout(config, workdir, tls_files)
                elif name == "slots":
                    from benchmarks import slots

                    _log("worker slots (multi-process Airflow)")
                    with emulator(None) as emu:
                        results["slots"] = slots.run(emu, **config["slots"])
            except Exception as exc:
                results["errors"][name] = f"{type(exc).__name__}: {exc}"
                _log(f"{name} FAILED: {exc}")
                traceback.print_exc()
            results.setdefault("seconds", {})[name] = time.time() - began
            _log(f"{name} took {time.time() - began:.0f} s")
    finally:
        results["wall_s"] = time.time() - started
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    from benchmarks import report

    output = output.resolve()
    raw = output.with_suffix(".json") if output.parent == BENCH_DIR else BENCH_DIR / "results.json"
    raw.write_text(json.dumps(results, indent=1, default=str))
    text = report.render(results, plots_dir=BENCH_DIR, full=full_run, prefix=output.stem + "-")
    output.write_text(text)
    print(report.summary_table(results))
    _log(f"wall time {results['wall_s'] / 60:.1f} min; wrote {output} and {raw}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
