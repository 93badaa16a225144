# The README's two commands are `make drill` and `make test`; both set up a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
CDK := node_modules/.bin/cdk
ENV ?= dev
SCENARIO ?= region-outage
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: drill test lint typecheck unit suite synth bench checkov clean setup

setup: $(VENV)/.installed $(CDK)

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $@

# checkov scans the synthesized templates (tests/stacks/test_checkov.py); its own venv, fully pinned
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

drill: setup  ## run the local game day (make drill SCENARIO=... ENV=...)
	$(BIN)/python -m drill --env $(ENV) --scenario $(SCENARIO)

test: setup lint typecheck suite  ## everything CI runs

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy $$(ls -d lambdas/switchyard stacks drill bench switchyard_cli switchyard_sim app.py 2>/dev/null)

suite: setup $(CHECKOV_VENV)/.installed  ## every test: unit, controller on moto, state machine, stacks (and checkov over them), drill (a process per core)
	$(BIN)/pytest -n auto --dist loadfile

unit: $(VENV)/.installed  ## the fast tier: pure logic and fakes, no moto, CDK or drill (under 30 s)
	SWITCHYARD_UNIT_TIER=1 $(BIN)/pytest -q tests/unit

synth: setup  ## cdk synth one environment into cdk.out
	$(CDK) synth -c env=$(ENV) --quiet

checkov: setup $(CHECKOV_VENV)/.installed  ## checkov's counts over both environments' templates (the README's security section)
	@mkdir -p cdk.out; for env in dev prod; do \
	  $(CDK) synth -c env=$$env --quiet -o cdk.out/checkov-$$env > cdk.out/checkov-$$env.log 2>&1 || { cat cdk.out/checkov-$$env.log; exit 1; }; \
	  echo "$$env: $$($(CHECKOV_VENV)/bin/checkov -d cdk.out/checkov-$$env --framework cloudformation --skip-download --quiet --compact | grep '^Passed checks')"; \
	done

bench: setup  ## print the benchmark numbers documented in the README
	$(BIN)/python -m bench

clean:  ## build and test output (reports/bench.json, the benchmark's committed results, stays)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
	find reports -mindepth 1 ! -name bench.json -delete 2>/dev/null || true
