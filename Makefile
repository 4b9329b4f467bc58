# The two commands: `make run` (set up and serve Flowbench) and `make test` (set up and run every test).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test system-deps bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Debian packages the tests use (sandbox, browser, Korean fonts); installed only when missing.
system-deps:
	bash scripts/system-deps.sh

# bubblewrap, the function sandbox, when it is missing and can be installed (else it says so).
run: $(STAMP)
	bash scripts/system-deps.sh run
	$(BIN)/python manage.py prepare
	$(BIN)/python -m flowbench.serve -b 127.0.0.1 -p 8000 flowbench.asgi:application

# The whole suite in TEST_WORKERS pytest-xdist workers: each test file on one worker, the
# integration tests in two groups started first (tests/conftest.py). Much of the suite waits on
# servers, sandboxes and browsers, so more workers than cores still pays.
TEST_WORKERS ?= 3
test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python -m bench
