# tracepipe build. Every target runs on the pinned Node below when the system Node is older
# than 22: it is fetched once from the npm registry (the `node` package ships the binary)
# into the git-ignored .tools/ folder.
SHELL := /bin/bash
NODE_VERSION := 22.23.3
TOOLS := $(CURDIR)/.tools
SYS_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell [ "$(SYS_NODE_MAJOR)" -ge 22 ] 2>/dev/null && echo yes),yes)
  NODE_STAMP :=
else
  NODE_STAMP := $(TOOLS)/node_modules/node/bin/node
  export PATH := $(TOOLS)/node_modules/node/bin:$(PATH)
endif
VENV := $(CURDIR)/build/venv
PIP_INDEX := --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple --find-links /opt/wheels
TP := node --enable-source-maps dist/pipeline/cli/main.js

.PHONY: setup build demo test bench compat venv clean typecheck format format-check

setup: node_modules/.installed

$(TOOLS)/node_modules/node/bin/node:
	@echo "system node is $(SYS_NODE_MAJOR).x (< 22): installing node@$(NODE_VERSION) from the npm registry into .tools/"
	@mkdir -p $(TOOLS)
	npm install --prefix $(TOOLS) --no-save --no-package-lock --no-audit --no-fund node@$(NODE_VERSION)
	@$@ --version

node_modules/.installed: package.json package-lock.json $(NODE_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

build: setup
	npx tsc -p tsconfig.json

typecheck: setup
	npx tsc -p tsconfig.json --noEmit

# One formatter, one line length (120, .prettierrc.json): `make format` rewrites, `make test` checks.
format: setup
	npx prettier --log-level warn --write "**/*.ts"

format-check: setup
	npx prettier --log-level warn --check "**/*.ts"

demo: build
	$(TP) demo

# The last line is the plain 'N passed, N failed' summary that CI reads.
test: build venv format-check
	@mkdir -p build
	@TRACEPIPE_PYTHON=$(VENV)/bin/python npx vitest run --exclude 'test/compat/**' --reporter=default --reporter=json --outputFile.json=build/vitest.json; rc=$$?; \
	  node -e 'const r=require("./build/vitest.json");console.log(`$${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests+r.numTodoTests} skipped`)' || true; exit $$rc

bench: build
	$(TP) bench

# Python is used only to check that the outputs load in pyarrow, datasets and TRL; never by the pipeline.
venv: $(VENV)/.installed

$(VENV)/.installed: test/compat/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PIP_INDEX) -r test/compat/requirements.txt
	@touch $@

# compat: proof that the outputs train. A fresh small demo run (COMPAT_RUN=runs/<x> reuses that
# run instead), every output loaded with `datasets`, one step each of TRL's SFT, DPO and PRM
# trainers on a tiny random model on CPU, offline; then the tests that a badly typed output fails.
VENV_TRAIN := $(CURDIR)/build/venv-train
COMPAT_ENV := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HOME=$(CURDIR)/build/hf-home
compat: build $(VENV_TRAIN)/.installed
	@if [ -z "$(COMPAT_RUN)" ]; then rm -rf runs/compat && $(TP) demo --n 60 --k 4 --name compat > build/compat-demo.log 2>&1 || { cat build/compat-demo.log; exit 1; }; fi
	$(COMPAT_ENV) $(VENV_TRAIN)/bin/python test/compat/train_step.py $(or $(COMPAT_RUN),runs/compat)
	$(COMPAT_ENV) TRACEPIPE_TRAIN_PYTHON=$(VENV_TRAIN)/bin/python TRACEPIPE_REQUIRE_TRAIN=1 npx vitest run test/compat

$(VENV_TRAIN)/.installed: test/compat/requirements-train.txt
	python3 -m venv $(VENV_TRAIN)
	$(VENV_TRAIN)/bin/pip install -q --disable-pip-version-check $(PIP_INDEX) -r test/compat/requirements-train.txt
	@touch $@

clean:
	rm -rf dist build node_modules .tools
