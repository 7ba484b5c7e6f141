# Two commands: `make run` starts Switchboard on its embedded defaults, `make test` checks it.
# Both create .venv when missing and reinstall only when pyproject.toml or uv.lock changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: run test lint typecheck unit bench clean

run: $(VENV)/.installed
	$(BIN)/switchboard local

test: $(VENV)/.installed-dev lint typecheck unit

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -n auto

# The environment: pip installs uv into a new venv, then uv installs exactly what uv.lock
# pins (after changing dependencies in pyproject.toml: `.venv/bin/uv lock`), compiled to bytecode
# once (every process would otherwise compile every module it imports). One line per step.
UV := UV_COMPILE_BYTECODE=1 UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv

$(BIN)/uv:
	@echo "==> creating $(VENV) and installing uv"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet uv >/dev/null 2>&1 || $(BIN)/pip install uv

$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	@echo "==> installing Switchboard and its dependencies (uv.lock)"
	@$(UV) sync --locked --inexact --quiet
	@touch $@

$(VENV)/.installed-dev: pyproject.toml uv.lock | $(BIN)/uv
	@echo "==> installing Switchboard with its test tools (uv.lock)"
	@$(UV) sync --locked --inexact --quiet --extra dev
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
