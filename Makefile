# govcloud — the commands a fresh machine needs.
#   make setup   .venv with the project and its dev tools (+ Debian packages when root)
#   make tools   Go-built tools (Pulumi CLI and plugins, kube-apiserver) into .tools/bin
#   make demo    the main job on the embedded sample city
#   make test    the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CITY ?= examples/sample-city
OUT ?= demo-out
APT_PACKAGES := frr openssh-server iproute2 iputils-ping prometheus etcd-server chromium fonts-noto-cjk hyperfine
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: setup apt venv tools demo test bench lint clean

setup: apt venv

venv: $(BIN)/govctl

$(BIN)/govctl: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
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

test: venv
	$(BIN)/pytest -q

bench: venv
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis
