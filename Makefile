# Copydesk: `make run` serves the app on SQLite (`make serve`: with gunicorn), `make test` lints and runs
# the suite, `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run demo serve lint test bench bench-quick setup setup-dev clean

# The job worker (exports and uploads started in the browser) runs beside the server and stops with it.
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seeds import seeds/
	$(BIN)/flask users ensure-admin
	$(BIN)/flask jobs worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# A new instance/demo.db each time: 2,000 generated seeds in the queue, 90 days of history, and the users
# demo-moderator, demo-lead and admin with passwords printed once (bench/demo.py).
DEMO_DB := instance/demo.db
demo: setup
	$(BIN)/python -m bench.demo --database $(DEMO_DB) --port $(PORT)
	DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# gunicorn.conf.py on DATABASE_URL; it never migrates (`.venv/bin/copydesk db upgrade` does, beforehand).
# The job worker is a process of its own there (docs/deploy.md): `.venv/bin/copydesk jobs worker`.
serve: setup
	@echo "Serving DATABASE_URL with gunicorn; after an update, run $(BIN)/copydesk db upgrade first."
	@echo "Exports and uploads need the job worker beside it: $(BIN)/copydesk jobs worker"
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Each benchmark prints its figures and goes on past a missed target (exit 1; 2, could not run or
# crashed, stops make: bench/run.py); all but jobs, big_seed and scale also write theirs into
# BENCH_RESULTS, printed as one table at the end, whose --check fails on a missed target.
# bench/README.md says how to rerun each by hand.
# BENCH_POSTGRES_URL: the PostgreSQL database for stats (default: test). Scale and search each measure
# a database of their own, BENCH_SCALE_POSTGRES_URL and BENCH_SEARCH_POSTGRES_URL (by default that URL
# with "_scale" or "_search" added, created when missing): a benchmark reuses a database that already
# holds enough articles, and would take another's for its own. Without them, scale uses copydesk_scale
# and search measures SQLite alone.
BENCH_RESULTS ?= bench/results.json
BENCH_POSTGRES_URL ?=
GO_ON = || [ $$? -eq 1 ]
STATS_PG = $(if $(BENCH_POSTGRES_URL),--postgres-url $(BENCH_POSTGRES_URL))
BENCH_SCALE_POSTGRES_URL ?= $(if $(BENCH_POSTGRES_URL),$(BENCH_POSTGRES_URL)_scale)
SCALE_PG = $(if $(BENCH_SCALE_POSTGRES_URL),--database-url $(BENCH_SCALE_POSTGRES_URL))
BENCH_SEARCH_POSTGRES_URL ?= $(if $(BENCH_POSTGRES_URL),$(BENCH_POSTGRES_URL)_search)
SEARCH_PG = $(if $(BENCH_SEARCH_POSTGRES_URL),--database-url $(BENCH_SEARCH_POSTGRES_URL))
bench: setup-dev
	$(BIN)/python -m bench.run import_seeds --results $(BENCH_RESULTS) $(BENCH_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run load_queue --results $(BENCH_RESULTS) $(BENCH_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run peer --results $(BENCH_RESULTS) $(BENCH_PEER_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run floors --results $(BENCH_RESULTS) $(BENCH_FLOORS_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run export --results $(BENCH_RESULTS) $(BENCH_EXPORT_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run jobs $(BENCH_JOBS_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run duplicates --results $(BENCH_RESULTS) $(BENCH_DUPLICATES_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run big_seed $(BENCH_BIG_SEED_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run stats --results $(BENCH_RESULTS) $(STATS_PG) $(BENCH_STATS_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run search --results $(BENCH_RESULTS) $(SEARCH_PG) $(BENCH_SEARCH_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run scale $(SCALE_PG) $(BENCH_SCALE_ARGS) $(GO_ON)
	$(BIN)/python -m bench.run results --results $(BENCH_RESULTS) --check

# Every benchmark above at small sizes, through the same code, in two to three minutes: it fails only
# when one cannot run. Targets are printed, not enforced (small sizes on a busy machine say little).
BENCH_QUICK_RESULTS ?= bench/results-quick.json
bench-quick: setup-dev
	rm -f $(BENCH_QUICK_RESULTS)
	$(BIN)/python -m bench.run import_seeds --n 300 --repeat 1 --results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run load_queue --n 2000 --unique 500 --seconds 1 --warmup 0 \
		--results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run peer --n 2500 --unique 500 --deep-page 40 --seconds 1 --warmup 0 --repeat 1 \
		--results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run floors --n 2500 --unique 500 --seconds 1 --warmup 0 --results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run export --n 2000 --unique 500 --results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run jobs --export-n 2000 --unique 500 --upload-n 300 $(GO_ON)
	$(BIN)/python -m bench.run duplicates --links 20000 --lookups 50 --results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run big_seed --entries 500 $(GO_ON)
	$(BIN)/python -m bench.run stats $(STATS_PG) --articles 2000 --events 10000 --requests 3 \
		--results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run search $(SEARCH_PG) --n 2000 --unique 500 --runs 5 \
		--results $(BENCH_QUICK_RESULTS) $(GO_ON)
	$(BIN)/python -m bench.run scale $(SCALE_PG) --fresh --n 1500 --unique 300 --seconds 1 --warmup 0 $(GO_ON)
	$(BIN)/python -m bench.run results --results $(BENCH_QUICK_RESULTS)

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Copydesk needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed tests/readers/package-lock.json
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@# gray-matter, the front-matter reader of static-site and CMS tools, reads our exports in a test.
	if command -v npm >/dev/null; then npm ci --prefix tests/readers --no-audit --no-fund --silent; \
	else echo "npm not found: the gray-matter export test will skip"; fi
	touch $@

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
