"""Results -> the text table printed at the end, BENCHMARKS.md, and the plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmarks.variants import LABELS

ANALYSIS = Path(__file__).with_name("analysis.md")
# Section 6 is its own command (python -m benchmarks.throughput, about 20 minutes), which writes this file.
THROUGHPUT = Path(__file__).with_name("throughput.md")
# Section 7 likewise (python -m benchmarks.batch_throughput, `make bench-batch`).
BATCH = Path(__file__).with_name("batch.md")


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _target(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


# -- targets ---------------------------------------------------------------------------------------


def _sweep(results: dict[str, Any], protocol: str) -> list[dict[str, Any]]:
    return [r for r in results.get("fanout", []) if r["set"] == "sweep" and r["protocol"] == protocol]


def _baselines(results: dict[str, Any], protocol: str) -> dict[str, dict[str, Any]]:
    return {r["variant"]: r for r in results.get("fanout", []) if r["set"] == "baselines" and r["protocol"] == protocol}


def targets(results: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    if results.get("fanout"):
        for protocol in ("http", "tls"):
            top = max(_sweep(results, protocol), key=lambda r: r["n"], default=None)
            if top is not None:
                done = top["finished"] == top["n"]
                rows.append(
                    [
                        f"fan-out {protocol}: {top['n']:,} renders in one loop, p99 lag < 200 ms",
                        f"{top['finished']:,}/{top['n']:,} done, p99 {_f(top['lag_p99_ms'], 0)} ms",
                        _target(done and top["lag_p99_ms"] < 200),
                    ]
                )
                rows.append(
                    [
                        f"fan-out {protocol}: < 20 KB per trigger at {top['n']:,}",
                        f"{_f(top['kb_per_trigger_peak'])} KB (peak RSS growth / N)",
                        _target(top["kb_per_trigger_peak"] < 20),
                    ]
                )
        base = _baselines(results, "tls")
        if "shared" in base and "new_client" in base:
            ratio = base["new_client"]["cpu_per_poll_ms"] / base["shared"]["cpu_per_poll_ms"]
            rows.append(
                [
                    "fan-out tls: >= 5x less CPU per poll than a new client per poll",
                    f"{_f(ratio)}x ({_f(base['shared']['cpu_per_poll_ms'], 2)} vs "
                    f"{_f(base['new_client']['cpu_per_poll_ms'], 2)} ms)",
                    _target(ratio >= 5),
                ]
            )
    for key, label in (
        ("adaptive|+0%", "polls"),
        ("adaptive|none", "polls, no estimate (AIML API, ModelArk), cold"),
        ("adaptive|none, warm", "polls, no estimate, warm render-time memory"),
    ):
        row = results.get("polls", {}).get(key)
        if row:
            rows.append(
                [
                    f"{label}: <= 4 requests per render, seen within max(2 s, 5%)",
                    f"{_f(row['mean_polls'], 2)} requests, {_f(100 * row['within_target'], 0)}% within",
                    _target(row["mean_polls"] <= 4 and row["within_target"] == 1.0),
                ]
            )
    rows += _history_targets(results.get("polls", {}))
    parse = results.get("parse", {}).get("rows")
    if parse:
        ours = parse["this provider"]["added_ms"]
        others = {k: v["added_ms"] for k, v in parse.items() if k not in ("bare DAG", "this provider")}
        rows.append(
            [
                "parse: operator import adds the least of the three",
                f"{_f(ours, 0)} ms vs " + ", ".join(f"{k} {_f(v, 0)} ms" for k, v in others.items()),
                _target(all(ours < v for v in others.values())),
            ]
        )
    for save in results.get("save", []):
        rows.append(
            [
                f"save {save['protocol']}: < 64 MB memory growth, >= 70% of curl",
                f"{_f(save['hook_rss_growth_max_mb'])} MB, {_f(100 * save['hook_vs_curl'], 0)}% of curl",
                _target(save["hook_rss_growth_max_mb"] < 64 and save["hook_vs_curl"] >= 0.7),
            ]
        )
    slots = results.get("slots")
    if slots:
        note = " (non-deferrable extrapolated)" if slots["polling_extrapolated"] else ""
        rows.append(
            [
                "worker slots: deferrable >= 5x faster",
                f"{_f(slots['speedup'])}x{note}",
                _target(slots["speedup"] >= 5),
            ]
        )
    rows += _many_saves_targets()
    rows += _throughput_target()
    rows += _batch_targets()
    return rows


def _batch_targets() -> list[list[str]]:
    """Section 7's rows (its own command writes ``results-batch.json``)."""
    from benchmarks.batch_report import target_rows

    path = BATCH.with_name("results-batch.json")
    return target_rows(json.loads(path.read_text())["campaigns"]) if path.exists() else []


def _throughput_target() -> list[list[str]]:
    """Section 6's row (its own command writes ``results-throughput.json``): measured, no target."""
    path = THROUGHPUT.with_name("results-throughput.json")
    if not path.exists():
        return []
    runs = {run["executor"]: run for run in json.loads(path.read_text())}
    titles = {"celery": "Celery", "local": "LocalExecutor"}
    measured = ", ".join(
        f"{titles.get(name, name)} {run['wall_s']:.0f} s ({run['wall_vs_ideal']:.2f}x)" for name, run in runs.items()
    )
    slots = {run["slots"] for run in runs.values()}
    return [
        [
            "throughput (section 6, its own command): 200 x 60 s renders, wall time against the ideal",
            f"{measured}, {'/'.join(str(s) for s in sorted(slots))} slots each",
            "measured, no target",
        ]
    ]


def summary_table(results: dict[str, Any]) -> str:
    rows = targets(results)
    width = max((len(r[0]) for r in rows), default=10)
    value_width = max((len(r[1]) for r in rows), default=10)
    lines = [f"{'target':<{width}}  {'measured':<{value_width}}  verdict"]
    lines += [f"{a:<{width}}  {b:<{value_width}}  {c.strip('*')}" for a, b, c in rows]
    for name, error in results.get("errors", {}).items():
        lines.append(f"{name}: FAILED {error}")
    return "\n".join(lines)


# -- sections --------------------------------------------------------------------------------------


def _fanout_section(results: dict[str, Any], plots: dict[str, str]) -> str:
    rows = results.get("fanout", [])
    if not rows:
        return ""
    out = ["## 1. Trigger fan-out", ""]
    out.append(
        "N real generations are created in the emulator (EvoLink dialect) and each is handed, as soon as the "
        "create call returns, to a fresh measuring process that runs one `SeedanceGenerationTrigger` per "
        "generation in one asyncio loop (`asyncio.create_task` of draining `run()`, as a triggerer does). "
        "CPU per poll = the measuring process's CPU time (all threads) / status requests. Memory per trigger = "
        "(peak RSS - RSS after warm-up) / N. Loop lag = how much a 50 ms `asyncio.sleep` in a ticker task "
        "overshoots (p99 over samples, as targeted; the time-weighted p99 weights each sample by the wall time "
        "it spans, so a long stall counts for its length, not as one sample). A run is cut off 30 s after its "
        "last render should have ended (renders not seen by then count as missed). Late = event time - "
        "(creation + render time). The emulator runs in its own process on the same 2 cores; its CPU is "
        "reported beside. The light runs (N <= 1,000) run side by side against one emulator."
    )
    out.append("")
    for protocol in ("http", "tls"):
        sweep = _sweep(results, protocol)
        if not sweep:
            continue
        low, high = sweep[0]["render_min"], sweep[0]["render_max"]
        out.append(f"### This provider, {protocol.upper()}, renders {low:.0f}-{high:.0f} s")
        out.append("")
        base = sweep[0]
        out.append(
            _table(
                [
                    "N",
                    "done",
                    "CPU/poll ms",
                    "vs N=" + f"{base['n']:,}",
                    "emulator CPU/poll ms",
                    "KB/trigger",
                    "lag p50 ms",
                    "lag p99 ms",
                    "lag p99 ms, time-weighted",
                    "lag max ms",
                    "GC max pause ms",
                    "late p50 s",
                    "late p99 s",
                    "within max(2 s, 5%)",
                    "polls/render",
                ],
                [
                    [
                        f"{r['n']:,}",
                        f"{r['finished']:,}" + (" (cut off)" if r["finished"] < r["n"] else ""),
                        _f(r["cpu_per_poll_ms"], 2),
                        _f(r["cpu_per_poll_ms"] / base["cpu_per_poll_ms"], 2) + "x",
                        _f(r["emulator_cpu_per_poll_ms"], 2),
                        _f(r["kb_per_trigger_peak"]),
                        _f(r["lag_p50_ms"]),
                        _f(r["lag_p99_ms"], 0),
                        _f(r.get("lag_p99_time_weighted_ms"), 0),
                        _f(r["lag_max_ms"], 0),
                        _f(r.get("gc_pause_max_ms"), 0),
                        _f(r["late_p50_s"]),
                        _f(r["late_p99_s"]),
                        _f(100 * r["within_target"], 0) + "%",
                        _f(r["polls_per_render"], 2),
                    ]
                    for r in sweep
                ],
            )
        )
        out.append("")
    for protocol in ("http", "tls"):
        base = _baselines(results, protocol)
        if not base:
            continue
        ref = base.get("shared")
        first = next(iter(base.values()))
        out.append(
            f"### Peer patterns, {protocol.upper()}, N = {first['n']:,}, renders "
            f"{first['render_min']:.0f}-{first['render_max']:.0f} s (ratios against this provider in the same set)"
        )
        out.append("")
        out.append(
            _table(
                [
                    "pattern",
                    "done",
                    "CPU/poll ms",
                    "CPU/poll vs ours",
                    "emulator CPU/poll ms",
                    "KB/trigger",
                    "lag p50 ms",
                    "lag p99 ms",
                    "lag max ms",
                    "late p50 s",
                    "late p99 s",
                ],
                [
                    [
                        LABELS[v],
                        f"{r['finished']:,}/{r['n']:,}",
                        _f(r["cpu_per_poll_ms"], 2),
                        (_f(r["cpu_per_poll_ms"] / ref["cpu_per_poll_ms"], 1) + "x") if ref else "-",
                        _f(r["emulator_cpu_per_poll_ms"], 2),
                        _f(r["kb_per_trigger_peak"]),
                        _f(r["lag_p50_ms"]),
                        _f(r["lag_p99_ms"], 0),
                        _f(r["lag_max_ms"], 0),
                        _f(r["late_p50_s"]),
                        _f(r["late_p99_s"]),
                    ]
                    for v, r in base.items()
                ],
            )
        )
        out.append("")
    if "fanout" in plots:
        out += [f"![fan-out]({plots['fanout']})", ""]
    return "\n".join(out)


def _history_targets(polls: dict[str, Any]) -> list[list[str]]:
    """Issue 11, part 2: a scheduled pipeline's second run with the earlier runs' render times read back."""
    titles = {"aimlapi": "AIML API", "modelark": "ModelArk"}
    out = []
    for row in polls.values():
        if not row.get("history"):
            continue
        dialect, case = titles.get(row["dialect"], row["dialect"]), row["case"].removeprefix("no estimate, ")
        out.append(
            [
                f"polls, no estimate ({dialect}), {case}, "
                "earlier runs read back: <= 4 requests per render, >= 90% seen within max(2 s, 5%)",
                f"{_f(row['mean_polls'], 2)} requests, {_f(100 * row['within_target'], 0)}% within",
                _target(row["mean_polls"] <= 4 and row["within_target"] >= 0.9),
            ]
        )
    return out


def _polls_hints(row: dict[str, Any]) -> tuple[str, str]:
    """(what the API gives, the render-time memory) for a polls row (older runs have estimate rows only)."""
    labels = {"off-centre": "warm, render off-centre", "cold wave": "cold, a wave of 10 (wave means)"}
    memory = labels.get(row.get("memory") or "", row.get("memory") or "-")
    if row.get("estimate_error") is None:
        dialect = {"aimlapi": "AIML API"}.get(row.get("dialect") or "", "ModelArk")
        return f"nothing ({dialect} dialect)", memory
    if not row["policy"].startswith("adaptive"):
        return "estimate (unused)", memory
    error = row["estimate_error"]
    return ("estimate, exact" if error == 0 else f"estimate {error:+.0%}"), memory


def _polls_section(results: dict[str, Any], plots: dict[str, str]) -> str:
    polls = results.get("polls")
    if not polls:
        return ""
    renders = [r["render"] for r in next(iter(polls.values()))["per_render"]]
    out = ["## 2. Polls per render", ""]
    out.append(
        f"The real trigger against the real emulator app (in process, `httpx.ASGITransport`) on a virtual "
        f"clock, for every render time from {renders[0]:.0f} s to {renders[-1]:.0f} s in 5 s steps. The "
        "emulator queues the first 10% of a render, then reports linear progress to 99%. Its "
        "`estimated_time` is the render time; for the +-25% rows every answer's estimate is scaled by a "
        "transport wrapper while the render time stays. The *nothing* rows run the emulator's ModelArk "
        "dialect, which (like ModelArk and the AIML API) gives neither an estimate nor progress; the trigger "
        "then polls around the typical time of earlier renders of the same spec in its process "
        "(`render_memory`): *cold* = none yet, *warm* = 20 earlier renders took render x U(0.8, 1.2), "
        "*off-centre* = this render is itself one draw of its spec's spread (earlier renders took "
        "(render / u) x U(0.8, 1.2), u ~ U(0.8, 1.2)), *cold wave* = 10 renders of one spec (times "
        "centre x U(0.8, 1.2)) submitted at once into an empty memory and polled concurrently on one "
        "virtual clock, as a mapped run's first wave in one triggerer; seeded. The *worker-side wait* rows run "
        "`SeedanceHook.wait_for_generation` (the operator without `deferrable`) the same way, its sync client "
        "bridged to the same app, given the render's spec. The *second run* rows (`benchmarks/polls_history.py`) "
        "run a scheduled mapped pipeline twice, each run a wave of 10 renders of one spec (centre x U(0.8, 1.2), "
        "a fresh draw per run) on the AIML API and ModelArk dialects: run 1 cold on triggerer A, then run 2 on A "
        "(*same triggerer*), on restarted triggerers (*restarted*) or alternately on A and a second triggerer B "
        "(*two triggerers*), with the first run's XCom results read back (`run_history`, *+ earlier runs' "
        "results*) or not (*process memory only*: the provider before); only run 2 is measured. Each layout runs "
        "twice: run 2 a fresh draw (*a fresh spread per run*: each render up to 20% off its spec's typical time) "
        "and *steady* (*run 2 at the spec's typical time*, the model of the *warm* row above). "
        "Deterministic, so one pass; "
        "the targets are the adaptive rows with a correct estimate and with no estimate, the others show robustness."
    )
    out.append("")
    rerun = results.get("reruns", {}).get("polls")
    if rerun:
        out.append(f"This section was re-run on its own after the full run: `{rerun['command']}` ({rerun['when']}).")
        out.append("")
    rows = []
    fixed_15 = polls.get("fixed 15 s|+0%")
    for row in polls.values():
        rows.append(
            [
                row["policy"],
                *_polls_hints(row),
                _f(row["mean_polls"], 2),
                (_f(row["mean_polls"] / fixed_15["mean_polls"], 2) + "x") if fixed_15 else "-",
                str(row["max_polls"]),
                _f(row["mean_late"]),
                _f(row["max_late"]),
                _f(100 * row["within_target"], 0) + "%",
            ]
        )
    out.append(
        _table(
            [
                "policy",
                "API gives",
                "render-time memory",
                "requests/render (mean)",
                "vs fixed 15 s",
                "max",
                "late mean s",
                "late max s",
                "within max(2 s, 5%)",
            ],
            rows,
        )
    )
    out.append("")
    if "polls" in plots:
        out += [f"![polls per render]({plots['polls']})", ""]
    return "\n".join(out)


def _parse_section(results: dict[str, Any]) -> str:
    parse = results.get("parse")
    if not parse:
        return ""
    rows = parse["rows"]
    ours = rows["this provider"]["added_ms"]
    out = ["## 3. DAG parse cost", ""]
    out.append(
        f"A fresh interpreter per measurement, {parse['repetitions']} rounds with the candidates interleaved, "
        "medians. *Added* is the time the import takes after `from airflow.sdk import DAG` in the same "
        "process. The peers' providers live in a scratch venv (`benchmarks/.venv-peers`) layered over the "
        "main one, so all candidates run on one interpreter and none becomes a dependency."
    )
    out.append("")
    out.append(
        _table(
            ["import", "added ms (median)", "vs this provider", "total ms", "total vs bare", "modules loaded"],
            [
                [
                    name if name == "bare DAG" else f"`{_stmt(name)}`",
                    _f(r["added_ms"], 0),
                    "-" if name == "bare DAG" else _f(r["added_ms"] / ours, 2) + "x",
                    _f(r["total_ms"], 0),
                    _f(r["total_vs_bare"], 2) + "x",
                    _f(r["modules"], 0),
                ]
                for name, r in rows.items()
            ],
        )
    )
    out.append("")
    top = parse.get("importtime_ours") or []
    if top:
        out.append("Largest imports under this provider's operator (`python -X importtime`, cumulative):")
        out.append("")
        out.append(_table(["module", "cumulative ms"], [[f"`{m.strip()}`", _f(ms, 1)] for m, ms in top]))
        out.append("")
    return "\n".join(out)


def _stmt(name: str) -> str:
    from benchmarks.parse_cost import CANDIDATES

    return CANDIDATES[name]


def _save_section(results: dict[str, Any]) -> str:
    saves = results.get("save")
    if not saves:
        return ""
    out = ["## 4. Saving", ""]
    out.append(
        f"`SeedanceHook.download_video` streaming `/files/blob/<size>.mp4` from the emulator into a local "
        f"`ObjectStoragePath` (atomic temp file + rename, SHA-256 and MP4 check), each run in a fresh process; "
        f"memory growth = VmHWM after the download - RSS before it (VmHWM reset first). `curl -o` on the same "
        f"URL is the limit. {saves[0]['repetitions']} runs each, interleaved; medians (memory: the worst run)."
    )
    out.append("")
    out.append(
        _table(
            ["protocol", "size MB", "hook MB/s", "curl MB/s", "hook / curl", "memory growth MB (max)"],
            [
                [
                    s["protocol"].upper(),
                    _f(s["size_mb"], 0),
                    _f(s["hook_mb_per_s"], 0),
                    _f(s["curl_mb_per_s"], 0),
                    _f(100 * s["hook_vs_curl"], 0) + "%",
                    _f(s["hook_rss_growth_max_mb"]),
                ]
                for s in saves
            ],
        )
    )
    out.append("")
    many = _many_saves_section()
    if many:
        out.append(many)
    return "\n".join(out)


FOLDER_SAVES = Path(__file__).with_name("results-folder-saves.json")
ASYNC_SAVES = Path(__file__).with_name("results-async-saves.json")
#: Section 4's memory target for one save, applied to a thousand saves in one process.
MANY_SAVES_MB = 64.0


def _async_runs(mode: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = json.loads(ASYNC_SAVES.read_text()) if ASYNC_SAVES.exists() else []
    return [r for r in runs if r["mode"] == mode]


def _many_saves_targets() -> list[list[str]]:
    """Section 4's rows for saves at scale (their own commands write the two JSON files)."""
    rows = []
    if FOLDER_SAVES.exists():
        f = json.loads(FOLDER_SAVES.read_text())
        rows.append(
            [
                f"saves into one folder: the last {f['window']} of {f['saves']:,} cost <= "
                f"{f['target_ratio']:.0f}x the CPU of the first {f['window']}",
                f"{f['ratio']:.2f}x ({f['last_window_cpu_s']:.2f} vs {f['first_window_cpu_s']:.2f} s)",
                _target(bool(f["met"])),
            ]
        )
    shared, baseline = _async_runs("shared"), _async_runs("per-transport")
    if shared and baseline:
        worst = max(r["rss_growth_mb"] for r in shared)
        rows.append(
            [
                f"async saves: {shared[0]['saves']:,} in one process add < {MANY_SAVES_MB:.0f} MB",
                f"+{worst:.0f} MB (one TLS context per transport, same run: "
                f"+{max(r['rss_growth_mb'] for r in baseline):.0f} MB)",
                _target(worst < MANY_SAVES_MB),
            ]
        )
    return rows


def _many_saves_section() -> str:
    out = []
    if FOLDER_SAVES.exists():
        f = json.loads(FOLDER_SAVES.read_text())
        out += [
            "### Saves into one folder",
            "",
            f"Command: `python -m benchmarks.folder_saves --saves {f['saves']} --window {f['window']}`: "
            f"`save_stream` of {f['saves']:,} small MP4s into one local folder; CPU of the last {f['window']} "
            f"saves {f['last_window_cpu_s']:.2f} s against {f['first_window_cpu_s']:.2f} s for the first "
            f"{f['window']} ({f['ratio']:.2f}x). A save looks for earlier attempts' numbered `.part` files by name, "
            "without listing the folder (listing it by name at each save gave 3.97x here at 10,000).",
            "",
        ]
    shared, baseline = _async_runs("shared"), _async_runs("per-transport")
    if shared and baseline:
        rows = [
            [r["mode"], f"{r['saves']:,}", _f(r["seconds"]), _f(r["saves_per_s"], 0), _f(r["rss_growth_mb"], 0)]
            for r in (*shared, *baseline)
        ]
        out += [
            "### Many async saves in one process",
            "",
            f"Command: `python -m benchmarks.async_saves --saves {shared[0]['saves']}`: "
            "`adownload_video(..., offload_writes=True)` 16 at a time against the emulator (`--stock-media`), "
            "each run in a fresh process, the two modes alternated: `shared` is the provider (one TLS context "
            "for every transport), `per-transport` the baseline (a context per transport, httpx's default and "
            "the provider's before). Memory = RSS after the saves and a `gc.collect()` minus RSS before.",
            "",
            _table(["mode", "saves", "s", "saves/s", "RSS growth MB"], rows),
            "",
        ]
    return "\n".join(out)


def _slots_section(results: dict[str, Any]) -> str:
    slots = results.get("slots")
    if not slots:
        return ""
    d, p = slots["deferrable"], slots["polling"]
    out = ["## 5. Worker slots", ""]
    out.append(
        f"A real deployment started by `tests/deployment/harness.py` (PostgreSQL, LocalExecutor with "
        f"parallelism {slots['slots']}, scheduler, dag-processor, api-server, one triggerer; started in "
        f"{_f(slots['startup_s'], 0)} s). DAGs in `benchmarks/dags/`: mapped `SeedanceGenerateVideoOperator` "
        f"renders of {slots['render_s']:.0f} s, no download. Wall time = the DAG run's end - start."
    )
    out.append("")
    rows = [
        ["deferrable", str(slots["deferrable_n"]), _f(d["wall_s"], 0), "measured", "1.0x"],
        ["non-deferrable", str(slots["polling_n"]), _f(p["wall_s"], 0), "measured", "-"],
    ]
    if slots["polling_extrapolated"]:
        rows.append(
            [
                "non-deferrable",
                str(slots["deferrable_n"]),
                _f(slots["polling_wall_at_n_s"], 0),
                f"{_f(slots['polling_per_round_s'], 0)} s per round of {slots['slots']} x "
                f"{slots['deferrable_n'] // slots['slots']} rounds",
                _f(slots["speedup"]) + "x",
            ]
        )
    else:
        rows[1][4] = _f(slots["speedup"]) + "x"
    out.append(_table(["mode", "renders", "wall s", "how", "non-deferrable / deferrable"], rows))
    out.append("")
    if slots["polling_extrapolated"]:
        out.append(
            "A non-deferrable render holds its slot for the whole render, so 40 renders on 4 slots are 10 "
            "back-to-back rounds; only whole rounds were run to keep the suite under 20 minutes."
        )
        out.append("")
    return "\n".join(out)


# -- plots -----------------------------------------------------------------------------------------


def plot(results: dict[str, Any], plots_dir: Path, prefix: str = "") -> dict[str, str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    made: dict[str, str] = {}
    sweep = [r for r in results.get("fanout", []) if r["set"] == "sweep"]
    if sweep:
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
        for protocol, style in (("http", "o-"), ("tls", "s--")):
            rows = [r for r in sweep if r["protocol"] == protocol]
            if not rows:
                continue
            ns = [r["n"] for r in rows]
            axes[0].plot(ns, [r["cpu_per_poll_ms"] for r in rows], style, label=f"{protocol} trigger")
            emulator = [r["emulator_cpu_per_poll_ms"] for r in rows]
            axes[0].plot(ns, emulator, style, alpha=0.4, label=f"{protocol} emulator")
            axes[1].plot(ns, [r["lag_p99_ms"] for r in rows], style, label=f"{protocol} p99")
            axes[1].plot(ns, [r["lag_p50_ms"] for r in rows], style, alpha=0.4, label=f"{protocol} p50")
            top = max(rows, key=lambda r: r["n"])
            axes[2].plot(top["lag_max_by_second_ms"], label=f"{protocol} N={top['n']:,}: worst lag per second")
        axes[0].set(xscale="log", xlabel="concurrent triggers N", ylabel="CPU ms per request", title="CPU per poll")
        axes[1].set(xscale="log", yscale="log", xlabel="concurrent triggers N", ylabel="ms", title="event-loop lag")
        axes[1].axhline(200, color="red", lw=0.8, ls=":")
        axes[2].set(yscale="log", xlabel="seconds since the first trigger", ylabel="ms", title="loop lag over the run")
        axes[2].axhline(200, color="red", lw=0.8, ls=":")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(plots_dir / f"{prefix}fanout.png", dpi=90)
        plt.close(fig)
        made["fanout"] = f"benchmarks/{prefix}fanout.png"
    polls = results.get("polls")
    if polls:
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
        for key, row in polls.items():
            if not row["policy"].startswith("adaptive") and row.get("estimate_error") is None:
                continue  # a fixed interval polls the same with or without an estimate
            if "history" in row:
                continue  # the second-run rows: in the table
            renders = [x["render"] for x in row["per_render"]]
            if not row["policy"].startswith("adaptive"):
                label = row["policy"]
            elif row.get("estimate_error") is None:
                label = row["policy"] + ", no estimate, memory " + _polls_hints(row)[1]
            else:
                label = key.replace("|", ", estimate ")
            style = "-" if row["policy"].startswith("adaptive") else "--"
            axes[0].plot(renders, [x["polls"] for x in row["per_render"]], style, label=label)
            axes[1].plot(renders, [x["late"] for x in row["per_render"]], style, label=label)
        renders = [x["render"] for x in next(iter(polls.values()))["per_render"]]
        axes[0].axhline(4, color="red", lw=0.8, ls=":")
        axes[1].plot(renders, [max(2.0, 0.05 * r) for r in renders], "r:", lw=0.8, label="max(2 s, 5%)")
        axes[0].set(xlabel="render time s", ylabel="status requests", title="requests per render")
        axes[1].set(xlabel="render time s", ylabel="s", title="completion seen late by")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(plots_dir / f"{prefix}polls.png", dpi=90)
        plt.close(fig)
        made["polls"] = f"benchmarks/{prefix}polls.png"
    return made


# -- document --------------------------------------------------------------------------------------


def render(results: dict[str, Any], *, plots_dir: Path, full: bool, prefix: str = "") -> str:
    """The markdown report; plots go to ``plots_dir`` (named ``<prefix>fanout.png`` ...), linked relative
    to the repository root."""
    plots = plot(results, plots_dir, "" if full else prefix)
    m = results["machine"]
    out = ["# Benchmarks", ""]
    if not full:
        out += [
            "> Not the recorded run (quick, partial, against a scratch core, or an earlier run kept for "
            "comparison): BENCHMARKS.md holds the record.",
            "",
        ]
    out.append(
        "Every figure is measured against the emulator in its own process over loopback, on a shared, noisy "
        "machine, so each is given beside a baseline measured in the same run; read ratios, not absolutes."
    )
    out.append("")
    out.append(
        f"Command: `{results['command']}` (`make bench`). Wall time of this run: {results['wall_s'] / 60:.1f} min."
    )
    out.append("")
    out.append(_table(["machine", ""], [[k, str(v)] for k, v in m.items()]))
    out.append("")
    out.append("## Targets")
    out.append("")
    out.append(_table(["target", "measured", "verdict"], targets(results)))
    out.append("")
    for name, error in results.get("errors", {}).items():
        out += [f"**{name} failed in this run:** `{error}`", ""]
    for section in (
        _fanout_section(results, plots),
        _polls_section(results, plots),
        _parse_section(results),
        _save_section(results),
        _slots_section(results),
        THROUGHPUT.read_text().strip() if THROUGHPUT.exists() and full else "",
        BATCH.read_text().strip() if BATCH.exists() and full else "",
    ):
        if section:
            out += [section, ""]
    if ANALYSIS.exists() and full:
        out += [ANALYSIS.read_text().strip(), ""]
    seconds = results.get("seconds", {})
    if seconds:
        out.append("Time per benchmark: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()) + ".")
        out.append("")
    return "\n".join(out)
