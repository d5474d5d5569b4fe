# flasharb: the single entry point. `make demo` runs the main job on a local chain; `make test` installs
# everything needed and runs every test. Foundry comes from npm: its platform binaries go first on PATH
# (never the node_modules/.bin shims or npx: the forge shim exits 0 on failing tests).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
FOUNDRY_BIN := $(ROOT)/node_modules/@foundry-rs/forge-linux-amd64/bin:$(ROOT)/node_modules/@foundry-rs/anvil-linux-amd64/bin:$(ROOT)/node_modules/@foundry-rs/cast-linux-amd64/bin
export PATH := $(FOUNDRY_BIN):$(ROOT)/.venv/bin:$(PATH)
export APE_DATA_FOLDER := $(ROOT)/.ape
export FOUNDRY_DISABLE_NIGHTLY_WARNING := 1
PYTEST := $(ROOT)/.venv/bin/pytest
ANVIL_PORT ?= 8545
RPC_URL ?= http://127.0.0.1:$(ANVIL_PORT)

.PHONY: relay-up bench-relay bench-liquidations setup build test test-sol test-py fmt fmt-check coverage coverage-check snapshot demo replica anvil \
        bench bench-gas bench-python bench-engine bench-latency clean

setup:
	@tools/setup.sh

build: setup
	forge build

## All tests: formatting, Solidity (unit, fuzz, invariant, fork-when-configured, gas snapshot), Python.
test: setup
	forge fmt --check
	forge build
	$(MAKE) --no-print-directory test-sol coverage-check test-py

test-sol:
	forge test
	forge snapshot --check snapshots/gas.snapshot --match-path 'test/gas/*'

test-py:
	cd python && $(PYTEST) -q

fmt: setup
	forge fmt

coverage: setup coverage-check

## src/ coverage, lines and branches >= 95% (tools/coverage-check.sh)
coverage-check:
	tools/coverage-check.sh

snapshot: setup
	forge snapshot --snap snapshots/gas.snapshot --match-path 'test/gas/*'

## The local Polygon replica on a running anvil (started by `make anvil`); addresses go to deployments/.
replica: setup
	tools/deploy-replica.sh $(RPC_URL)

anvil: setup
	anvil --port $(ANVIL_PORT) --balance 100000000 --silent

demo: setup
	tools/demo.sh

bench: bench-gas bench-python bench-engine bench-latency bench-relay bench-liquidations

bench-gas: setup
	tools/bench-gas.sh

bench-python bench-engine bench-latency bench-relay: setup
	cd python && $(ROOT)/.venv/bin/python -m flasharb.bench $(@:bench-%=%)

## Liquidations: gas (forge, liquidation-gas.json), then price move -> send on anvil and the 10k-borrower health factor recompute
bench-liquidations: setup
	tools/bench-gas.sh
	cd python && $(ROOT)/.venv/bin/python -m flasharb.bench liquidations

## NATS JetStream on loopback for the scanner-plus-agents mode (file storage in .cache/nats).
relay-up: setup
	tools/nats-server.sh .cache/nats 4222

clean:
	rm -rf out cache broadcast .stamps
