# The two commands of the README: `make demo` and `make test`. Each does its own set-up.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make demo PORT=5100` when 8000 is taken; KIOSK_PORT for the demo's kiosk (0: none).
PORT   ?= 8000
KIOSK_PORT ?= 8080

.PHONY: setup demo test bench lint clean

$(STAMP): pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/spilno server demo --port $(PORT) --kiosk-port $(KIOSK_PORT)

# Two workers, one per core; --dist loadfile keeps a module's tests on one worker, so a
# module-wide fixture (the fault drills' server and terminals) is built once.
test: $(STAMP)
	./scripts/ensure-postgres.sh
	./scripts/ensure-redis.sh
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

bench: $(STAMP)
	./scripts/ensure-postgres.sh
	./scripts/ensure-redis.sh
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
