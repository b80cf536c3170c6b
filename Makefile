# govcloud — the commands a fresh machine needs.
#   make demo    the main job on the embedded sample city (sets itself up)
#   make test    the whole test suite (sets itself up: Debian packages when root, the venv
#                from requirements.lock, the Go-built tools when absent)
#   make setup   .venv from requirements.lock (+ Debian packages when root), and .venv-scan
#                with checkov (its own venv: checkov pins packaging<24, Pulumi wants >=26)
#   make tools   Go-built tools (Pulumi CLI and plugins, kube-apiserver) into .tools/bin
#   make lint    ruff check, ruff format --check and mypy
#   make lock    re-resolve requirements.lock from pyproject.toml
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CITY ?= examples/sample-city
OUT ?= demo-out
PYTEST_ARGS ?=
APT_PACKAGES := frr openssh-server iproute2 iputils-ping prometheus etcd-server chromium fonts-noto-cjk hyperfine
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(BIN):$(PATH)

CHECKOV := checkov==3.3.30

.PHONY: setup apt venv scanner tools demo test bench lint lock clean

setup: apt venv scanner

venv: $(BIN)/.installed

# The venv installs exactly the pinned set in requirements.lock, then the project itself
# (editable, no dependency resolution): the same versions on every machine.
$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "requirements.lock lacks a dependency of pyproject.toml: run make lock"; exit 1; }
	touch $@

lock: venv
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev --extra dask \
	  --output-file requirements.lock pyproject.toml

scanner: .venv-scan/bin/checkov

.venv-scan/bin/checkov: Makefile
	test -x .venv-scan/bin/python || $(PYTHON) -m venv .venv-scan
	.venv-scan/bin/pip install --quiet '$(CHECKOV)'
	touch $@

apt:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  fi; \
	else echo "not root or no apt-get: skipping Debian packages ($(APT_PACKAGES))"; fi

tools:
	bash tools/build.sh

demo: venv
	$(BIN)/govctl demo $(CITY) --out $(OUT)

test: setup tools
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: venv
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis
