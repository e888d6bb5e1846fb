# Maintainers' shortcuts. `make help` lists them. Running the bot in production:
# deploy/README.md.
#
# Everything runs with the virtual environment in $(VENV) (create it with `make install`);
# use another one with  make test VENV=/path/to/venv

VENV ?= .venv
PYTHON ?= python3
PY ?= $(VENV)/bin/python
PYBABEL ?= $(VENV)/bin/pybabel
# Labelled questions for `make eval` (kept outside the repository, see knowledge/README.md).
EVAL_FILE ?= ../shared/eval/dev.jsonl

.DEFAULT_GOAL := help
.PHONY: help install lock check chat eval test ci run bench transcript \
        texts-extract texts-update texts-compile texts-check

help: ## list the targets
	@echo "Usage: make TARGET   (VENV=$(VENV))"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## create the virtual environment with the locked versions (bot, tests, linters)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --no-deps --no-build-isolation -e .

lock: ## recompile requirements.lock and requirements-dev.lock from pyproject.toml (newest allowed versions)
	$(VENV)/bin/uv pip compile pyproject.toml --upgrade --python-version 3.11 --generate-hashes --no-header --quiet -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --upgrade --extra test --extra dev --python-version 3.11 --generate-hashes --no-header --quiet -c requirements.lock -o requirements-dev.lock

ci: ## everything CI runs, from a clean install (.ci/run)
	bash .ci/run

check: ## validate the knowledge base (exit 1 on errors)
	$(PY) -m bot check knowledge

chat: ## talk to the bot in the terminal, without Telegram
	$(PY) -m bot chat

eval: ## measure matching on labelled questions (EVAL_FILE, default ../shared/eval/dev.jsonl)
	@if [ -f "$(EVAL_FILE)" ]; then \
	  $(PY) -m bot eval "$(EVAL_FILE)"; \
	else \
	  echo "No evaluation file at $(EVAL_FILE)." >&2; \
	  echo "The labelled questions live outside the repository (shared/eval/dev.jsonl next to it)." >&2; \
	  echo "Point to your copy with: make eval EVAL_FILE=path/to/dev.jsonl" >&2; \
	  exit 1; \
	fi

test: ## run the test suite
	$(PY) -m pytest -q

run: ## run the Telegram bot with long polling (needs TELEGRAM_BOT_TOKEN etc. in the environment)
	$(PY) -m bot run

# The catalog workflow (docs: README "Translations of the bot's own texts"). The template has no
# header, so extracting twice gives the same file; updates keep POT-Creation-Date, so a run
# without changes leaves no diff.
PYBABEL_EXTRACT = $(PYBABEL) extract -F babel.cfg --no-default-keywords -k _:2 --omit-header --no-location --sort-output

texts-extract: ## collect the bot's texts from the code into locales/messages.pot
	$(PYBABEL_EXTRACT) -o locales/messages.pot bot

texts-update: ## merge locales/messages.pot into every locales/<lang>/LC_MESSAGES/bot.po
	$(PYBABEL) update --ignore-pot-creation-date -D bot -i locales/messages.pot -d locales

texts-compile: ## compile the .po catalogs into .mo files (optional: the bot compiles them at start-up)
	$(PYBABEL) compile -D bot -d locales

texts-check: ## fail if messages.pot misses a text of the code or a catalog is not up to date with it
	@tmp=$$(mktemp) && $(PYBABEL_EXTRACT) -o $$tmp bot >/dev/null 2>&1 \
	  && { diff -u locales/messages.pot $$tmp | head -40; cmp -s locales/messages.pot $$tmp || { rm -f $$tmp; echo "locales/messages.pot is out of date: run make texts-extract texts-update" >&2; exit 1; }; } \
	  && rm -f $$tmp
	$(PYBABEL) update --check --ignore-pot-creation-date -D bot -i locales/messages.pot -d locales

transcript: ## write docs/conversation.md: what people and volunteers see, from the running code
	$(PY) tests/transcript.py

bench: ## run the matching and bot benchmarks
	$(PY) benchmarks/bench_matching.py
	$(PY) benchmarks/bench_bot.py
