# Partner Benefits Bot: every entry point installs what it needs, so a fresh clone needs only `make`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
NODE_TOOLS := node_modules/.stamp
# `make run AS=...` names a demo person; AS is also a built-in variable of make (the assembler, `as`),
# which must not be taken for one
ifeq ($(origin AS),default)
AS :=
endif

.PHONY: run test walk bench package doctor lint deps dev-deps node-deps e2e-deps pg-deps clean

## run: start the bot on :3978 and the Agents Playground on :56150 (Ctrl-C stops both);
##      AS=leeg@contoso.com (an email or a name of the demo people) chats as that person instead of Alex
run: deps $(NODE_TOOLS)
	$(PY) -m bot dev $(if $(AS),--as "$(AS)")

## test: install everything the tests need, then run the whole suite
test: dev-deps $(NODE_TOOLS) e2e-deps pg-deps
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

## walk: the browser walk of every role without its make-test budgets (every button; takes a while)
walk: dev-deps $(NODE_TOOLS) e2e-deps
	WALK_SCALE=10 WALK_CLICKS=2000 $(PY) -m pytest tests/e2e/test_browser_walk.py -s

## bench: performance benchmarks (print figures; they are not tests)
bench: dev-deps pg-deps
	$(PY) -m bench

## package: build the Teams app package (build/appPackage.zip) from manifest/ and .env
package: dev-deps $(NODE_TOOLS)
	$(PY) -m manifest.package

## doctor: check the configuration (.env) before the first start in a tenant; ARGS="--online" asks Entra too
doctor: deps
	$(PY) -m bot doctor $(ARGS)

lint: dev-deps
	$(PY) -m ruff check .
	$(PY) -m mypy

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps
node-deps: $(NODE_TOOLS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.deps: requirements.txt $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/bin/python
	$(PIP) install -q -r requirements-dev.txt
	touch $@ $(VENV)/.deps

$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## e2e-deps: Debian chromium and CJK fonts for the browser tests (installed when missing)
e2e-deps:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto sans cjk" || { \
	  echo "installing chromium and fonts-noto-cjk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

## pg-deps: Debian's PostgreSQL server for the storage tests (installed when missing; the tests start their own)
pg-deps:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing postgresql"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

clean:
	rm -rf $(VENV) node_modules build
