#!/usr/bin/env bash
# The distribution check (`make test-dist`, part of `make test`): what a user gets from `pip install`.
#
# 1. builds the sdist, and the wheel from that sdist, with `build` in a throwaway venv; `twine check --strict`;
# 2. checks their contents: LICENSE and NOTICE in both (the repository's own files), py.typed and the
#    emulator in the wheel, no test-tooling extra in the metadata (tests, linters: `dev` dependency group);
# 3. installs the wheel (not the checkout) with apache-airflow==$AIRFLOW_VERSION into a fresh venv with no
#    dev tooling: `airflow providers list` lists the provider and a DAG with the operator parses;
# 4. adds the `emulator` extra, starts `seedance-emulator --port 0` from that venv and runs the DAG with
#    `airflow dags test` in a temporary AIRFLOW_HOME; the MP4 must exist.
# Everything lives in one temporary folder, removed at the end (SEEDANCE_DIST_KEEP=1 keeps it). pip's cache
# is used, so only the first run downloads. Knobs: PYTHON (python3), AIRFLOW_VERSION (3.3.2).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.3.2}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/seedance-dist-XXXXXX")"
EMULATOR_PID=""
START=$SECONDS
PHASE_START=$SECONDS
PHASE=""

cleanup() {
    local status=$?
    if [[ -n "$EMULATOR_PID" ]]; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
    fi
    local log
    log=$(ls -t "$WORK"/*.log 2>/dev/null | head -n 1)
    if [[ $status -ne 0 && -n "$log" ]]; then
        echo "--- last lines of $(basename "$log"), the latest log ---" >&2
        grep -v "^WARNING: Location" "$log" | tail -n 40 >&2
    fi
    if [[ "${SEEDANCE_DIST_KEEP:-}" == "1" ]]; then
        echo "check-dist: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    if [[ $status -eq 0 ]]; then
        echo "check-dist: OK in $((SECONDS - START)) s"
    else
        echo "check-dist: FAILED (exit status $status) after $((SECONDS - START)) s" >&2
    fi
}
trap cleanup EXIT
trap "exit 143" TERM INT

step() {
    [[ -n "$PHASE" ]] && echo "  (took $((SECONDS - PHASE_START)) s)"
    PHASE=$*
    echo "check-dist: [at $((SECONDS - START)) s] $*"
    PHASE_START=$SECONDS
}

fail() {
    echo "check-dist: $*" >&2
    exit 1
}

# pip prints a warning per package for unreadable extra index locations some machines configure; keep
# the output to what matters (errors still show: pip exits non-zero and the log tail is printed).
pip_quiet() {
    local venv=$1 log=$2
    shift 2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >>"$WORK/$log" 2>&1
}

new_venv() {
    "$PYTHON" -m venv "$1"
    pip_quiet "$1" "$2" --upgrade pip
}

step "sources: the checkout's tracked and untracked, not ignored, files (no venvs, no caches)"
mkdir "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) \
    | tar -xf - -C "$WORK/src"

step "build and twine in a throwaway venv"
"$PYTHON" -m venv "$WORK/tools"
pip_quiet "$WORK/tools" tools.log build twine

step "build the sdist, then the wheel from it"
"$WORK/tools/bin/python" -m build --outdir "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1
SDIST=$(ls "$WORK"/dist/*.tar.gz)
WHEEL=$(ls "$WORK"/dist/*.whl)
echo "  $(basename "$SDIST") $(($(stat -c %s "$SDIST") / 1024)) KiB, $(basename "$WHEEL") $(($(stat -c %s "$WHEEL") / 1024)) KiB"

step "twine check --strict"
"$WORK/tools/bin/twine" check --strict "$SDIST" "$WHEEL" >"$WORK/twine.log" 2>&1

step "contents: LICENSE and NOTICE, every file of the package (py.typed, templates), no test-tooling extra"
"$WORK/tools/bin/python" - "$ROOT" "$SDIST" "$WHEEL" <<'EOF'
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

root, sdist, wheel = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
problems = []
with tarfile.open(sdist) as tar:
    top = tar.getnames()[0].split("/")[0]
    for name in ("LICENSE", "NOTICE"):
        member = tar.extractfile(f"{top}/{name}") if f"{top}/{name}" in tar.getnames() else None
        if member is None:
            problems.append(f"sdist: no {name} at its top level")
        elif member.read() != (root / name).read_bytes():
            problems.append(f"sdist: {name} differs from the repository's")
with zipfile.ZipFile(wheel) as whl:
    names = whl.namelist()
    dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
    for name in ("LICENSE", "NOTICE"):
        path = f"{dist_info}/licenses/{name}"
        if path not in names:
            problems.append(f"wheel: no {path}")
        elif whl.read(path) != (root / name).read_bytes():
            problems.append(f"wheel: {path} differs from the repository's")
    # every file of the package in the sources (templates, py.typed: data a user's install needs) is shipped
    package = root / "airflow_provider_seedance"
    shipped = [
        path.relative_to(root).as_posix()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    for path in ("airflow_provider_seedance/py.typed", "airflow_provider_seedance/emulator/cli.py", *shipped):
        if path not in names:
            problems.append(f"wheel: no {path}")
    meta = Parser().parsestr(whl.read(f"{dist_info}/METADATA").decode())
extras = set(meta.get_all("Provides-Extra") or [])
if extras != {"emulator"}:
    problems.append(f"published extras are {sorted(extras)}, expected only ['emulator'] (test tooling: dev group)")
if meta["License-Expression"] != "Apache-2.0":
    problems.append(f"License-Expression is {meta['License-Expression']!r}")
if sorted(meta.get_all("License-File") or []) != ["LICENSE", "NOTICE"]:
    problems.append(f"License-File is {meta.get_all('License-File')}")
if problems:
    sys.exit("\n".join(problems))
EOF

cd "$WORK"  # from here on nothing may import the checkout through the current directory
step "fresh venv: the wheel with apache-airflow==$AIRFLOW_VERSION, no extra, no dev tooling (the long step)"
VENV="$WORK/venv"
new_venv "$VENV" install.log
pip_quiet "$VENV" install.log "apache-airflow==$AIRFLOW_VERSION" "$WHEEL"
for tool in pytest ruff mypy respx; do
    if "$VENV/bin/python" -c "import $tool" 2>/dev/null; then
        fail "$tool is importable in the fresh venv: test tooling leaked into the package's dependencies"
    fi
done
[[ "$("$VENV/bin/python" -c 'import airflow_provider_seedance as p; print(p.__file__)')" == "$VENV"/* ]] \
    || fail "the provider is not imported from the fresh venv's site-packages"

# Airflow runs with only this environment: nothing of the caller's Airflow settings or connections.
HOME_DIR="$WORK/airflow"
mkdir -p "$HOME_DIR" "$WORK/dags" "$WORK/output"
airflow_cmd() {
    local conn=()
    [[ -n "${SEEDANCE_CONN:-}" ]] && conn=(AIRFLOW_CONN_SEEDANCE_DEFAULT="$SEEDANCE_CONN")
    env -i "${conn[@]}" PATH="$VENV/bin:/usr/bin:/bin" HOME="$HOME_DIR" LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
        AIRFLOW_HOME="$HOME_DIR" \
        AIRFLOW__CORE__LOAD_EXAMPLES=False \
        AIRFLOW__CORE__DAGS_FOLDER="$WORK/dags" \
        AIRFLOW__CORE__UNIT_TEST_MODE=False \
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$HOME_DIR/airflow.db" \
        "$VENV/bin/airflow" "$@"
}

cat >"$WORK/dags/dist_smoke.py" <<EOF
"""The distribution check's DAG: one short render, saved to a local file."""

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_seedance.operators.seedance import SeedanceGenerateVideoOperator

with DAG(dag_id="seedance_dist_smoke", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SeedanceGenerateVideoOperator(
        task_id="render",
        model="seedance-2.0-fast-text-to-video",
        prompt="A paper boat on a puddle, checked from a wheel",
        duration=4,
        aspect_ratio="16:9",
        output_path="$WORK/output/smoke.mp4",
    )
EOF

step "airflow db migrate"
airflow_cmd db migrate >"$WORK/airflow.log" 2>&1

step "airflow providers list"
airflow_cmd providers list -o plain >"$WORK/providers.log" 2>&1
grep -q "^airflow-provider-seedance" "$WORK/providers.log" || fail "airflow providers list does not list the provider"

step "the DAG parses: airflow dags list --local (a DAG that fails to import is not listed)"
airflow_cmd dags list --local -o plain >"$WORK/dags-list.log" 2>&1
grep -q "^seedance_dist_smoke " "$WORK/dags-list.log" || fail "airflow dags list --local does not show seedance_dist_smoke"

step "the emulator extra: pip install '<wheel>[emulator]'"
pip_quiet "$VENV" install.log "apache-airflow==$AIRFLOW_VERSION" "airflow-provider-seedance[emulator] @ file://$WHEEL"

step "seedance-emulator --port 0 from the fresh venv"
env -i PATH="$VENV/bin:/usr/bin:/bin" HOME="$HOME_DIR" LANG=C.UTF-8 \
    "$VENV/bin/seedance-emulator" --port 0 --render-seconds 1 >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^seedance-emulator listening on \(http:[^ ]*\)$/\1/p' "$WORK/emulator.log" | head -n 1)
    [[ -n "$URL" ]] && break
    kill -0 "$EMULATOR_PID" 2>/dev/null || fail "seedance-emulator exited: $(cat "$WORK/emulator.log")"
    sleep 0.1
done
[[ -n "$URL" ]] || fail "seedance-emulator printed no URL in 10 s"
echo "  $URL"
SEEDANCE_CONN="{\"conn_type\": \"seedance\", \"password\": \"any-key\", \"host\": \"$URL\", \"extra\": {\"backend\": \"evolink\"}}"

step "airflow dags test seedance_dist_smoke (deferrable: the trigger runs in-process)"
airflow_cmd dags test seedance_dist_smoke >"$WORK/dags-test.log" 2>&1 \
    || fail "airflow dags test failed (log: dags-test.log)"
grep -q "DagRun Finished: dag_id=seedance_dist_smoke, .*state=success" "$WORK/dags-test.log" \
    || fail "the DAG run did not end in success (log: dags-test.log)"
MP4="$WORK/output/smoke.mp4"
[[ -s "$MP4" ]] || fail "no MP4 at $MP4"
[[ "$(head -c 8 "$MP4" | tail -c 4)" == "ftyp" ]] || fail "$MP4 is not an MP4 (no ftyp box)"
echo "  $(basename "$MP4") $(($(stat -c %s "$MP4") / 1024)) KiB"
step "done"
