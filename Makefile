# Two commands for a newcomer: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := redis-server postgresql fonts-noto-cjk libzbar0 chromium
PIP_INDEX := --no-emit-index-url --no-emit-find-links

.PHONY: help install run test test-fast lint format bench eval lock clean services

help:
	@echo "make run      start the whole service (gateway :8000, backend :8080, Rasa, actions, notifier)"
	@echo "make test     run the test suite (installs first; starts Redis/PostgreSQL if none is running)"
	@echo "make lint     ruff + mypy + rasa data validate"
	@echo "make bench    print latency/throughput figures"
	@echo "make eval     print NLU and policy search accuracy (the search alone and behind NLU)"
	@echo "make install  set up system packages, .venv and .venv-rasa (quick when nothing changed)"

install: $(STAMP) system-packages rasa-env

# Debian packages: checked with dpkg each time (fast), installed only when one is missing.
.PHONY: system-packages
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): requirements/app.txt requirements/dev.txt
	@test -x $(PY) || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/app.txt -r requirements/dev.txt
	@touch $(STAMP)

.PHONY: rasa-env
rasa-env:
	@if [ -x scripts/rasa_env.sh ]; then scripts/rasa_env.sh install && scripts/rasa_env.sh train; fi

run: install
	scripts/run.sh

services:
	scripts/services.sh ensure

test: install services
	$(PY) -m pytest -q -ra

test-fast: $(STAMP) services
	$(PY) -m pytest -q -ra -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check backend bot actions rasa_ext tests scripts
	$(VENV)/bin/ruff format --check backend bot actions rasa_ext tests scripts
	$(VENV)/bin/mypy backend bot
	@if [ -x scripts/rasa_env.sh ]; then scripts/rasa_env.sh validate; fi

format: $(STAMP)
	$(VENV)/bin/ruff format backend bot actions rasa_ext tests scripts
	$(VENV)/bin/ruff check --fix backend bot actions rasa_ext tests scripts

bench: install services
	$(PY) scripts/bench_backend.py
	@for s in scripts/bench_policies.py scripts/bench_materials.py scripts/bench_verification.py scripts/bench_gateway.py scripts/bench_assistant.py; do \
	  if [ -f $$s ]; then $(PY) $$s || exit 1; fi; done

# Accuracy figures (not timed, not gates: the floors live in the tests). The policy search is scored alone
# and as an applicant meets it, behind NLU (scripts/policy_routes.py records the model's intents).
eval: install
	scripts/rasa_env.sh eval --nonsense tests/rasa/nonsense.yml
	scripts/rasa_env.sh shell python scripts/policy_routes.py --out var/eval/policy_routes.json
	$(PY) scripts/policy_eval.py --routes var/eval/policy_routes.json

# Re-resolve pinned versions after editing requirements/*.in.
lock: $(STAMP)
	cd requirements && ../$(VENV)/bin/pip-compile -q --strip-extras --allow-unsafe $(PIP_INDEX) app.in -o app.txt
	cd requirements && ../$(VENV)/bin/pip-compile -q --strip-extras --allow-unsafe $(PIP_INDEX) dev.in -o dev.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
