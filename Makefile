# Referral service. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
FLASK  := $(BIN)/flask --app referral_app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.DEFAULT_GOAL := help
.PHONY: help install run test fuzz lint format migrate demo clean bench bench-large wrk assets

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Make the virtual environment in .venv and install the project

migrate: $(STAMP) ## Bring the database schema up to date (flask db upgrade)
	$(FLASK) db upgrade

demo: migrate ## Load the demo agencies, users and referrals and print the logins
	$(FLASK) seed-demo

run: demo ## Set up, migrate, load demo data, start the job runner and the audit sequencer, and serve on http://127.0.0.1:5000
	@echo "Background jobs: huey_consumer referral_app.jobs.huey (queue in instance/jobs.db)"
	@echo "Audit sequencer: flask audit seal --watch"
	@$(BIN)/huey_consumer referral_app.jobs.huey --workers 2 --quiet & consumer=$$!; \
	$(FLASK) audit seal --watch & sequencer=$$!; \
	trap 'kill $$consumer $$sequencer 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(STAMP) ## Run the whole test suite (TEST_DATABASE_URL picks PostgreSQL)
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$status

fuzz: $(STAMP) ## Fuzz the API against its OpenAPI document at length (500 cases an operation, every kind of user)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} FUZZ_IDENTITIES=$${FUZZ_IDENTITIES:-all} \
		$(BIN)/pytest tests/fuzz $(PYTEST_ARGS)

wrk: ## Install the load tool (Debian's wrk) when it is missing
	@command -v wrk >/dev/null || { echo "installing Debian's wrk"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }; }

bench: $(STAMP) wrk ## Benchmark at 10k referrals on SQLite and PostgreSQL (a few minutes); appends to bench/RESULTS.md
	$(BIN)/python bench/run.py --database sqlite --referrals 10000
	$(BIN)/python bench/run.py --database postgresql --referrals 10000

bench-large: $(STAMP) wrk ## The same at 1M referrals (loads take minutes, SQLite's longest)
	$(BIN)/python bench/run.py --database sqlite --referrals 1000000
	$(BIN)/python bench/run.py --database postgresql --referrals 1000000

GOVUK_STATIC := referral_app/static/govuk
assets: ## Rebuild the vendored GOV.UK Frontend files from the pinned npm release (needs Node and npm)
	cd assets && npm ci --no-audit --no-fund
	assets/node_modules/.bin/sass --style=compressed --no-source-map --quiet-deps \
		--load-path=assets/node_modules assets/application.scss $(GOVUK_STATIC)/govuk-frontend.min.css
	sed "/sourceMappingURL/d" assets/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js > $(GOVUK_STATIC)/govuk-frontend.min.js
	node -p 'require("./assets/node_modules/govuk-frontend/package.json").version' > $(GOVUK_STATIC)/VERSION

lint: $(STAMP) ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove the virtual environment, caches and the local database
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache *.egg-info
