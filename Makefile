# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates its own virtualenv and installs what it needs first: the provider (editable) with its
# `emulator` extra, and the test tooling of the `dev` dependency group and the doc tools of the `docs` group in
# pyproject.toml (PEP 735; `pip install --group` needs pip >= 25.1, hence the pip upgrade first).

PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
FLOOR_VENV ?= .venv-floor
FLOOR_AIRFLOW_VERSION ?= 3.1.8
DOCS_OUT ?= docs/_build
BIN := $(VENV)/bin

.PHONY: install system-deps lint docs docs-linkcheck test test-quick test-unit test-floor test-dist demo bench bench-throughput bench-batch clean

# Tests that only wait (renders on the emulator's clock, Airflow processes, subprocesses) run in this many
# pytest-xdist workers; a test file stays on one worker (--dist loadfile), so its module fixtures are shared.
XDIST ?= -n 4 --dist loadfile

# The editable install leaves setuptools' airflow_provider_seedance.egg-info in the checkout; it is removed, because
# wherever the checkout is on sys.path (tests, the deployment's PYTHONPATH) it is a second distribution with the
# same `airflow.plugins` entry point, and the task SDK of Airflow 3.3 stops loading entry-point plugins at the
# first duplicate (OpenLineage's listener would then be skipped in every task).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" -e ".[emulator]" --group dev --group docs
	rm -rf airflow_provider_seedance.egg-info
	touch $@

install: $(VENV)/.installed

# Debian packages the tests need: chromium (browser tests) and PostgreSQL (deployment suite); Redis and
# RabbitMQ must answer (the Celery deployment).
system-deps:
	./scripts/ensure-system-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy airflow_provider_seedance

# The documentation site (docs/, MyST Markdown + autodoc) into $(DOCS_OUT)/html. Warnings are errors and
# nitpicky (-W -n): a broken cross-reference, a link to a missing page, file or heading anchor, or a docstring
# with broken reST fails it. -E re-reads every page, so an unchanged page's warning is never hidden by a
# cached build. External links are not fetched here (no network in CI): `make docs-linkcheck` checks them.
docs: install
	$(BIN)/sphinx-build -E -W --keep-going -n -b html docs $(DOCS_OUT)/html

docs-linkcheck: install
	$(BIN)/sphinx-build -E -W --keep-going -n -b linkcheck docs $(DOCS_OUT)/linkcheck

# The whole suite, in three lanes side by side from the start (each part mostly waits: on renders, Airflow's
# loops, subprocesses; the two cores stay busy): the deployment suite (real Airflow processes on PostgreSQL,
# Redis, RabbitMQ); the unit, contract, emulator, dag.test() integration and example tests on Airflow
# $(AIRFLOW_VERSION) in pytest-xdist workers; and lint, types, the docs build and the floor's virtualenv (`make -j3`),
# then the unit and dag.test() tests on the $(FLOOR_AIRFLOW_VERSION) floor (the emulator and its tests import no
# Airflow, so they run once), then the distribution check. Each lane's output is printed once all have ended, in
# that order; the run fails if any part failed. (The other two lanes at nice 10 beside the deployment suite, tried
# at bac05fd: the deployment lane took 1,128 s instead of 1,145, the 3.3 lane 1,119 s instead of 792: the
# deployment mostly waits on the real clock, not on the cores, so its priority bought nothing. The deployment
# suite as two pytest processes side by side, `--deployment local` and `--deployment celery`, tried at 3f6a27e:
# the LocalExecutor lane took 1,046 s and the CeleryExecutor lane 1,181 s, against 1,160 s for both one after
# the other, and the whole run took longer (load average 20): the two cores are the bound, not the waits.)
# The floor and the distribution check at nice 10, tried at dbaea7f and d0ae700: 1,225 s and 1,470 s in CI on a
# fresh clone (the floor then ended last: 856 s and 1,064 s), against 1,216 s at 9f62cd8 without it; undone.
LANES = .lane-deploy .lane-airflow .lane-checks
test: install system-deps
	@rm -f $(addsuffix .rc,$(LANES)) $(addsuffix .log,$(LANES)); \
	$(call lane,.lane-deploy,$(call limited,$(LIMIT_DEPLOY),$(BIN)/pytest -q -p no:cacheprovider --durations=12 tests/deployment,the deployment suite)) & \
	$(call lane,.lane-airflow,$(call limited,$(LIMIT_LANE),$(BIN)/pytest -q -p no:cacheprovider --durations=25 $(XDIST) --ignore=tests/deployment,the Airflow $(AIRFLOW_VERSION) suite)) & \
	$(call lane,.lane-checks,status=0; \
		$(MAKE) --no-print-directory -j3 -Otarget lint docs $(FLOOR_VENV)/.installed || status=1; \
		( $(call limited,$(LIMIT_FLOOR),$(MAKE) --no-print-directory test-floor,the $(FLOOR_AIRFLOW_VERSION) floor) ) || status=1; \
		( $(call limited,$(LIMIT_DIST),$(MAKE) --no-print-directory test-dist,the distribution check) ) || status=1; \
		exit $$status); \
	wait; status=0; for lane in $(LANES); do \
		echo "---- $$lane: exit $$(cat $$lane.rc) ----"; cat $$lane.log; test "$$(cat $$lane.rc)" -eq 0 || status=1; \
	done; exit $$status

# A lane: the commands' output into <name>.log, their exit status into <name>.rc.
lane = ( ( $(2) ) > $(1).log 2>&1; echo $$? > $(1).rc )

# Each part has a time limit (LIMIT_* seconds; they take a third of it on this 2-core machine beside the other
# lanes): a part that hangs is stopped and named, so that every lane's log is printed and CI fails instead of
# running out its time. The stop is SIGINT (SIGKILL 60 s later), so that pytest still prints what failed and
# where it was: a SIGTERM lands in the handler an in-process `dag.test()` leaves behind and prints nothing.
LIMIT_LANE ?= 1800
LIMIT_FLOOR ?= 1200
LIMIT_DIST ?= 600
LIMIT_DEPLOY ?= 2700
limited = t0=$$(date +%s); timeout --signal=INT --kill-after=60 $(1) $(2); rc=$$?; \
	times > .times.$$$$; echo "make test: $(3) took $$(( $$(date +%s) - t0 )) s, $$($(cpu_seconds) .times.$$$$) CPU-s"; \
	rm -f .times.$$$$; \
	[ $$rc -eq 124 ] && echo "make test: $(3) passed its $(1) s limit: stopped"; exit $$rc

# The CPU seconds (user + system) of the processes a part ran and waited for: the shell's `times`, whose output
# goes to a file (in a pipe or a $$(...) it would be a subshell's, which ran nothing).
cpu_seconds = awk 'END { split($$1, u, "m"); split($$2, s, "m"); printf "%.0f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'

# The inner loop: lint, types and the unit and contract tests (no Airflow run, no browser), under 2 minutes.
test-quick: lint
	$(BIN)/pytest -q -p no:cacheprovider -n 2 tests/unit

test-unit: install
	$(BIN)/pytest -q tests/unit

# cryptography 51 (2026-12) breaks Airflow 3.1.8: its get_fernet sets an attribute on MultiFernet, a Rust
# object since 51, so every connection with a password fails to save (HTTP 500 in the connection form test);
# Airflow 3.3 wraps it and takes 51.
$(FLOOR_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/pip install --quiet "apache-airflow==$(FLOOR_AIRFLOW_VERSION)" "cryptography<51" -e ".[emulator]" --group dev
	rm -rf airflow_provider_seedance.egg-info
	touch $@

test-floor: $(FLOOR_VENV)/.installed
	$(FLOOR_VENV)/bin/pytest -q -p no:cacheprovider --durations=25 $(XDIST) tests/unit tests/integration

# The sdist and the wheel as a user gets them: built, `twine check`ed, the wheel installed into a fresh
# venv (no dev tooling) where Airflow lists the provider, parses a DAG and renders against the emulator.
# Needs no venv of its own: it makes throwaway ones under $$TMPDIR and removes them.
test-dist:
	PYTHON="$(PYTHON)" AIRFLOW_VERSION="$(AIRFLOW_VERSION)" ./scripts/check-dist.sh

demo: install
	$(BIN)/python scripts/demo.py

# Benchmarks against the emulator; results and the command in BENCHMARKS.md. Not part of `make test`.
bench: install system-deps
	$(BIN)/pip install --quiet --group bench
	$(BIN)/python -m benchmarks

# Throughput at scale (BENCHMARKS.md section 6): 200 renders of 60 s on Celery and on LocalExecutor, about
# 20 minutes; needs PostgreSQL and Redis like the deployment suite. Not part of `make test` or `make bench`.
bench-throughput: install system-deps
	$(BIN)/python -m benchmarks.throughput

# Catalog scale (BENCHMARKS.md section 7): one batch task against mapped tasks on the Celery deployment (4 worker
# slots), then a large batch of 10,000, saved in the triggerer, the emulator serving stock clips (the run
# BENCHMARKS.md shows; about 12 minutes here). Needs PostgreSQL and Redis. Not part of `make test` or `make bench`.
BENCH_BATCH_ARGS ?= --save-in-triggerer --stock-media
bench-batch: install system-deps
	$(BIN)/python -m benchmarks.batch_throughput $(BENCH_BATCH_ARGS)

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .lane.log .lane.rc .pytest_cache .mypy_cache .ruff_cache output .demo $(DOCS_OUT)
