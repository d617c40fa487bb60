# Copydesk: `make run` serves the app on SQLite (`make serve`: with gunicorn), `make test` lints and runs
# the suite, `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run serve lint test bench setup setup-dev clean

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seeds import seeds/
	$(BIN)/flask users ensure-admin
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# gunicorn.conf.py on DATABASE_URL; it never migrates (`.venv/bin/copydesk db upgrade` does, beforehand).
serve: setup
	@echo "Serving DATABASE_URL with gunicorn; after an update, run $(BIN)/copydesk db upgrade first."
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup-dev
	$(BIN)/python -m bench.import_seeds $(BENCH_ARGS)
	$(BIN)/python -m bench.load_queue $(BENCH_ARGS)
	$(BIN)/python -m bench.export $(BENCH_EXPORT_ARGS)
	$(BIN)/python -m bench.duplicates $(BENCH_DUPLICATES_ARGS)
	$(BIN)/python -m bench.big_seed $(BENCH_BIG_SEED_ARGS)
	$(BIN)/python -m bench.stats $(BENCH_STATS_ARGS)
	$(BIN)/python -m bench.search $(BENCH_SEARCH_ARGS)
	$(BIN)/python -m bench.scale $(BENCH_SCALE_ARGS)

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Copydesk needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed tests/readers/package-lock.json
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# gray-matter, the front-matter reader of static-site and CMS tools, reads our exports in a test.
	if command -v npm >/dev/null; then npm ci --prefix tests/readers --no-audit --no-fund --silent; \
	else echo "npm not found: the gray-matter export test will skip"; fi
	touch $@

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
