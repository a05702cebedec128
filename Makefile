# Kura: two commands on a fresh Debian machine with the Swift toolchain.
#   make run    build, then start the dev chains, the coordinator and a funded demo company (until Ctrl-C)
#   make test   build and run every test (unit, vectors, interop with the oracles, binary checks)
# Also: make demo (the withdrawals and the attack, scripted end to end), make walkthrough (the key layer and the
# cold signer on their own, offline).
SHELL := /bin/bash
.DEFAULT_GOAL := help

APT_PACKAGES := libsecp256k1-dev libsqlite3-dev python3 python3-venv binutils chromium chromium-driver fonts-ipafont-gothic strace postgresql-15
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= release
BIN := .build/$(CONFIG)
SWIFT_FLAGS ?= -c $(CONFIG)
# One set of compiler flags for every build of the package: SwiftPM recompiles every module, dependencies
# included, when they change between two builds (it doubled the CI build when `build` left this out).
BUILD_FLAGS := $(SWIFT_FLAGS) -Xswiftc -warnings-as-errors
# Three workers on two cores (most tests wait on processes, chains and browsers), one test file per worker at a
# time (module fixtures stay on one worker); the slowest tests are listed at the end.
PYTEST_FLAGS ?= -q -n 3 --dist loadfile --durations=15
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 12

.PHONY: help deps venv build build-tests format-check test unit-test interop-test run demo walkthrough fuzz fuzz-smoke fuzz-run bench clean-data

help:
	@echo "make run           build, then start the dev chains, the coordinator and a funded demo company (Ctrl-C stops)"
	@echo "make demo          build, then a withdrawal on each wallet and the attack replayed, end to end"
	@echo "make walkthrough   build, then the key layer and the cold signer on their own (offline)"
	@echo "make test          build and run every test"

# System packages, installed only when missing (one apt-get update first).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

# Python oracles and pytest, pinned, in a local venv (rebuilt when requirements.txt changes).
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt | deps
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

build: deps
	set -o pipefail; swift build $(BUILD_FLAGS) 2>&1 | { grep -v "^\[" || true; }
	@test -x $(BIN)/kura && test -x $(BIN)/kura-signer && test -x $(BIN)/kura-devtool

build-tests: deps
	swift build $(BUILD_FLAGS) --build-tests

format-check:
	swift format lint --strict --recursive --parallel Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Sources \
	  Benchmarks/Benchmarks Fuzz/Package.swift Fuzz/Sources

# The storage conformance suite also runs against a throw-away PostgreSQL 15 (ADR 0010); the server is
# stopped and deleted afterwards, also on failure.
unit-test: build-tests
	@url=$$(scripts/pg-test-server.sh start) || exit 1; trap 'scripts/pg-test-server.sh stop' EXIT; \
	  KURA_TEST_POSTGRES_URL=$$url KURA_REQUIRE_POSTGRES=1 swift test $(BUILD_FLAGS) --skip-build

# The coordinator's API tests run `kura serve` on SQLite and on the throw-away PostgreSQL.
INTEROP := url=$$(scripts/pg-test-server.sh start) || exit 1; trap 'scripts/pg-test-server.sh stop' EXIT; \
	  KURA_TEST_POSTGRES_URL=$$url KURA_REQUIRE_POSTGRES=1 KURA_BIN=$(BIN) $(PY) -m pytest $(PYTEST_FLAGS) tests
interop-test: build venv
	@$(INTEROP)

# The fuzz targets' instrumented build runs beside the interop tests, at the lowest priority: those tests wait on
# processes, chains and browsers part of the time, and the build takes only what they leave (about 5 of the
# 35 minutes of a run from a clean clone, when it ran after them). Its log is shown when both are done.
test: deps venv format-check build-tests unit-test build
	@log=$$(mktemp); nice -n 19 Fuzz/run.sh --build >"$$log" 2>&1 & fuzz=$$!; \
	  ( $(INTEROP) ); tests=$$?; wait $$fuzz; built=$$?; echo "Fuzz/run.sh --build:"; cat "$$log"; rm -f "$$log"; \
	  [ $$tests -eq 0 ] || exit $$tests; [ $$built -eq 0 ] || exit $$built
	@$(MAKE) --no-print-directory fuzz-run
	@echo "make test: all suites passed"

# libFuzzer targets (the Fuzz/ package): every folder Fuzz/Sources/fuzz-* is one target.
fuzz-smoke: deps
	Fuzz/run.sh --build
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run:
	@for t in $$(Fuzz/run.sh --list); do Fuzz/run.sh $$t $(FUZZ_SMOKE_SECONDS) || exit 1; done

fuzz: deps
	Fuzz/run.sh --build
	@for t in $$(Fuzz/run.sh --list); do Fuzz/run.sh $$t $(FUZZ_SECONDS) || exit 1; done

# Benchmarks (not part of make test; figures go to BENCHMARKS.md): the side-by-side oracle comparisons, then
# the coordinator under load beside its one-insert ceiling, on SQLite and a throw-away PostgreSQL.
bench: build venv
	swift build -c release --package-path Benchmarks
	$(PY) Benchmarks/compare.py
	$(PY) Benchmarks/btc_compare.py
	$(PY) Benchmarks/eth_compare.py
	$(PY) Benchmarks/signer_compare.py
	@url=$$(scripts/pg-test-server.sh start) || exit 1; trap 'scripts/pg-test-server.sh stop' EXIT; \
	  KURA_BIN=$(BIN) KURA_TEST_POSTGRES_URL=$$url $(PY) Benchmarks/coordinator_load.py --intents 700 --warmup 100 --paced 800

# The main job against the local dev chains (scripts/demo.py; state in .kura-demo/, wiped at each start).
# From a terminal it stays up until Ctrl-C; without one (CI, a script) it comes up, checks itself, prints the same
# and stops (RUN_FLAGS= to keep it up anyway).
RUN_FLAGS ?= $(shell [ -t 0 ] || echo --check)
run: build venv
	KURA_BIN=$(BIN) $(PY) scripts/demo.py up $(RUN_FLAGS)

demo: build venv
	KURA_BIN=$(BIN) $(PY) scripts/demo.py demo

walkthrough: build venv
	KURA_BIN=$(BIN) scripts/walkthrough.sh
	KURA_BIN=$(BIN) $(PY) scripts/walkthrough.py
