"""BENCHMARKS.md section 7 from ``benchmarks/results-batch.json`` (``python -m benchmarks.batch_report``
rewrites benchmarks/batch.md from the JSON without running anything)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.throughput import PHASES

ROOT = Path(__file__).resolve().parent.parent
#: Benchmark 7's targets (issue 24): worker slot-seconds per render, wall time against the ideal, triggerer memory.
SLOT_S_TARGET, WALL_TARGET, RSS_TARGET_MB = 0.1, 1.3, 200.0


def _f(value: Any, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _runner(campaign: dict[str, Any]) -> dict[str, Any] | None:
    """The triggerer process whose memory grew most while the campaign's triggers ran (the trigger runner)."""
    rows = list(campaign.get("triggerer_rss", {}).values())
    return max(rows, key=lambda r: r["peak_mb"] - r["before_mb"]) if rows else None


def campaign_rows(campaigns: list[dict[str, Any]], slots: int) -> list[str]:
    lines = [
        "| mode | renders x s | task instances | renders ok | wall s | ideal s | wall / ideal | slot-s | "
        "slot-s per render | "
        "creates: first at s / span s | downloads: first at s / span s | polls per render | "
        "median queued / execute / trigger / resume / save s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in campaigns:
        med = c["median_s"]
        lines.append(
            f"| {c['mode']} | {c['renders']} x {c['render_s']:g} | {c['task_instances']} | {c['succeeded']} | "
            f"{c['wall_s']:.0f} | {c['ideal_s']:.0f} | {c['wall_vs_ideal']:.2f}x | {c['slot_seconds']:.0f} | "
            f"{c['slot_seconds_per_render']:.3f} | {_f(c['first_create_s'])} / {_f(c['create_span_s'])} | "
            f"{_f(c['first_download_s'])} / {_f(c['download_span_s'])} | {c['polls'] / max(1, c['renders']):.2f} | "
            + " / ".join(_f(med[p], 1) for p in PHASES)
            + " |"
        )
    return lines


def memory_rows(campaigns: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| campaign | triggerer process | RSS before MB | peak RSS while deferred MB | growth MB | "
        "VmHWM since campaign start MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in campaigns:
        for pid, r in sorted(c.get("triggerer_rss", {}).items()):
            lines.append(
                f"| {c['mode']} {c['renders']} | {pid} `{r['cmd']}` | {r['before_mb']:.0f} | {r['peak_mb']:.0f} | "
                f"{r['peak_mb'] - r['before_mb']:.0f} | {r['hwm_mb']:.0f} |"
            )
    return lines


def target_rows(campaigns: list[dict[str, Any]]) -> list[list[str]]:
    """[target, measured, verdict] per batch campaign (also BENCHMARKS.md's Targets table, via ``report``)."""
    rows = []
    for c in (c for c in campaigns if c["mode"] == "batch"):
        n, per, ratio = c["renders"], c["slot_seconds_per_render"], c["wall_vs_ideal"]
        rows.append(
            [
                f"batch {n} (section 7): <= {SLOT_S_TARGET} worker slot-s per render",
                f"{per:.3f}",
                _verdict(per <= SLOT_S_TARGET),
            ]
        )
        rows.append(
            [
                f"batch {n} (section 7): wall <= {WALL_TARGET}x the ideal",
                f"{c['wall_s']:.0f} s / {c['ideal_s']:.0f} s = {ratio:.2f}x",
                _verdict(ratio <= WALL_TARGET),
            ]
        )
        runner = _runner(c)
        if runner:
            # every process of the triggerer (the supervisor relays the trigger's XCom writes): the growths
            # summed, each at its own peak, so an upper bound of what the batch added at any one time
            growth = sum(r["peak_mb"] - r["before_mb"] for r in c["triggerer_rss"].values())
            rows.append(
                [
                    f"batch {n} (section 7): triggerer memory for the batch < {RSS_TARGET_MB:.0f} MB",
                    f"+{growth:.0f} MB RSS over the triggerer's processes (the one that grew most: "
                    f"{runner['before_mb']:.0f} -> {runner['peak_mb']:.0f} MB)",
                    _verdict(growth < RSS_TARGET_MB),
                ]
            )
    return rows


def targets(campaigns: list[dict[str, Any]]) -> list[str]:
    return [
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        *("| " + " | ".join(r) + " |" for r in target_rows(campaigns)),
    ]


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def baseline_ratio(campaigns: list[dict[str, Any]]) -> list[str]:
    """Mapped against a batch of the same size, in the same run."""
    mapped = {c["renders"]: c for c in campaigns if c["mode"] == "mapped"}
    lines = []
    for c in campaigns:
        m = mapped.get(c["renders"]) if c["mode"] == "batch" else None
        if m:
            slots = (
                f"{c['slot_seconds']:.0f} worker slot-seconds against {m['slot_seconds']:.0f} "
                f"({m['slot_seconds'] / c['slot_seconds']:.0f}x fewer)"
                if c["slot_seconds"]
                else f"under 1 worker slot-second (see below) against {m['slot_seconds']:.0f}"
            )
            lines.append(
                f"{c['renders']} renders: the batch took {c['wall_s']:.0f} s against {m['wall_s']:.0f} s mapped "
                f"({m['wall_s'] / c['wall_s']:.1f}x faster) and {slots}."
            )
    if any(c["mode"] == "batch" and not c["slot_seconds"] for c in campaigns):
        lines.append(
            "A batch with 0 slot-seconds and no phases (nan): no 0.5 s sample caught its task running, so each of "
            "its two worker steps took under 0.5 s (under 1 s in all, under 0.005 s per render of 200)."
        )
    return lines


def section(out: dict[str, Any], command: str) -> str:
    probe, campaigns = out["probe"], out["campaigns"]
    m = out["machine"]
    lines = [
        "## 7. Catalog scale: a batch against mapped tasks",
        "",
        f"Command: `{command}` (`make bench-batch`; not part of `make test` or `make bench`), {m['date']}; "
        f"machine: {m['nproc']} cores ({m['cpu']}), shared with other sessions' runs, Airflow {m['apache-airflow']}.",
        "",
        f"The deployment suite's Celery deployment (PostgreSQL, Redis, two Celery workers, {out['slots']} worker slots "
        "in all, one triggerer) and the emulator in its own process; DAGs in "
        "`benchmarks/dags/seedance_bench_batch.py`, "
        "one EvoLink connection, 5 s 480p clips saved to local disk. The same campaign runs as mapped "
        "`SeedanceGenerateVideoOperator` tasks and as one `SeedanceBatchGenerateVideosOperator` task "
        f"(max_concurrency {out['concurrency']}), then the large batch, one after another on the same deployment. "
        "Phases from the task instances' states sampled every 0.5 s, as in section 6. Ideal of a batch = "
        "N / create rate + one render + N / save rate, the rates those of the probe below (the batch's own create and "
        "save code against the same emulator, same concurrency, no Airflow, same run); ideal of mapped tasks as in "
        "section 6. Slot-seconds = time `generate` task instances spent running.",
        "",
        "Batch saves: "
        + (
            "in the triggerer (`save_in_triggerer=True`), as each render succeeds"
            if out.get("save_in_triggerer")
            else "in the resumed worker step"
        )
        + ". Emulator media: "
        + (
            "one stock clip per shape (`--stock-media`), encoded once and served to every generation."
            if out.get("stock_media")
            else "one clip encoded per generation on its first download."
        ),
        "",
        f"Probe: {probe['created']} creates in {probe['create_s']:.1f} s ({probe['create_per_s']:.1f}/s), "
        f"{probe['saved']} saves in {probe['save_s']:.1f} s ({probe['save_per_s']:.1f}/s, "
        f"{probe['mean_size_bytes'] / 1024:.0f} KiB each), concurrency {probe['concurrency']}.",
        "",
        *campaign_rows(campaigns, out["slots"]),
        "",
        *baseline_ratio(campaigns),
        "",
        "Triggerer memory: VmRSS of each process of the triggerer's tree from /proc every second; *before* = the "
        "median over the 30 s before the batch task deferred, *peak* = the largest sample from its deferral to the "
        "trigger's event; VmHWM was reset (/proc/PID/clear_refs) when each campaign started.",
        "",
        *memory_rows(campaigns),
        "",
        *targets(campaigns),
        "",
        "Sizes of the rows the batch writes (bytes of text; the trigger's kwargs are Fernet-encrypted):",
        "",
        "| campaign | row | bytes |",
        "| --- | --- | --- |",
        *(
            f"| batch {c['renders']} | {key} | {value} |"
            for c in campaigns
            if c["mode"] == "batch"
            for key, value in sorted(c.get("sizes", {}).items())
        ),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else ROOT / "benchmarks" / "results-batch.json"
    out = json.loads(path.read_text())
    command = out.get("command", "python -m benchmarks.batch_throughput")
    (ROOT / "benchmarks" / "batch.md").write_text(section(out, command))
    print(time.strftime("%H:%M:%S"), "wrote benchmarks/batch.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
