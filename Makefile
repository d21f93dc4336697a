# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each creates its own virtualenv and installs what it needs first: the provider (editable) with its
# `emulator` extra, and the test tooling of the `dev` dependency group in pyproject.toml (PEP 735;
# `pip install --group` needs pip >= 25.1, hence the pip upgrade first).

PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
FLOOR_VENV ?= .venv-floor
FLOOR_AIRFLOW_VERSION ?= 3.1.8
BIN := $(VENV)/bin

.PHONY: install system-deps lint test test-unit test-floor test-dist demo bench bench-throughput clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" -e ".[emulator]" --group dev
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

# The whole suite: lint and types, unit, contract, emulator, dag.test() integration, examples, on Airflow
# $(AIRFLOW_VERSION); then its deployment suite and, side by side with it (the suite mostly waits on renders), the
# unit and dag.test() tests on the $(FLOOR_AIRFLOW_VERSION) floor, whose output is printed after the suite's (the
# emulator and its tests import no Airflow, so they run once); then the distribution check.
test: lint system-deps
	$(BIN)/pytest -q -p no:cacheprovider --ignore=tests/deployment
	@rm -f .floor.rc; ( $(MAKE) --no-print-directory test-floor > .floor.log 2>&1; echo $$? > .floor.rc ) & \
	$(BIN)/pytest -q -p no:cacheprovider tests/deployment; deploy=$$?; wait; \
	echo "---- Airflow $(FLOOR_AIRFLOW_VERSION) floor (ran beside the deployment suite) ----"; cat .floor.log; \
	test $$deploy -eq 0 && test "$$(cat .floor.rc)" -eq 0
	$(MAKE) test-dist

test-unit: install
	$(BIN)/pytest -q tests/unit

$(FLOOR_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/pip install --quiet "apache-airflow==$(FLOOR_AIRFLOW_VERSION)" -e ".[emulator]" --group dev
	touch $@

test-floor: $(FLOOR_VENV)/.installed
	$(FLOOR_VENV)/bin/pytest -q -p no:cacheprovider tests/unit tests/integration

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

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .floor.log .floor.rc .pytest_cache .mypy_cache .ruff_cache output .demo
