# `make test` and `make demo` set up everything they need on first use: .venv (scar and its Python
# packages), .venv-ministack (the Lambda emulator that really runs functions; it pins its own botocore),
# and the Debian packages the sandbox needs (bubblewrap, busybox-static, proot).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install system-deps demo test test-fast e2e unit integration lint bench clean
MINISTACK_VENV := .venv-ministack
MINISTACK_STAMP := $(MINISTACK_VENV)/.installed

$(STAMP): requirements.txt requirements-test.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	# a plain .pth editable install: no import hook to load at every start-up
	$(BIN)/python -m pip install --quiet --no-deps --config-settings editable_mode=compat -e .
	touch $(STAMP)

$(MINISTACK_STAMP):
	$(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MINISTACK_VENV)/bin/python -m pip install --quiet ministack boto3
	touch $@

install: $(STAMP) $(MINISTACK_STAMP) system-deps

system-deps:
	bash scripts/install-system-deps.sh

demo: install
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check scar tests bench devtools scripts

test: lint install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: lint $(STAMP)
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: install
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

# The AWS CLI pins botocore, so it gets a venv of its own; scar runs from .venv. BENCH_ARGS: see bench/README.md.
BENCH_VENV := .venv-bench
BENCH_ARGS ?=

$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet awscli
	touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed
	AWS_CLI=$(BENCH_VENV)/bin/aws $(BIN)/python bench/transfer.py $(BENCH_ARGS)

# microburst (latency and fault injection in front of moto) pins its own dependencies: a venv of its own.
# LIFECYCLE_ARGS: see bench/README.md (e.g. LIFECYCLE_ARGS="--mode inprocess --repeat 5").
.PHONY: bench-lifecycle
MICROBURST_VENV := .venv-microburst
MICROBURST_VERSION ?= 0.10.0
LIFECYCLE_ARGS ?=

$(MICROBURST_VENV)/.installed:
	$(PYTHON) -m venv $(MICROBURST_VENV)
	$(MICROBURST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MICROBURST_VENV)/bin/python -m pip install --quiet "microburst==$(MICROBURST_VERSION)"
	touch $@

bench-lifecycle: $(STAMP) $(MICROBURST_VENV)/.installed
	MICROBURST=$(MICROBURST_VENV)/bin/microburst $(BIN)/python bench/lifecycle.py $(LIFECYCLE_ARGS)

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .ruff_cache build *.egg-info
