# Herald's commands. `make run` and `make test` are the two a newcomer needs;
# each installs what it lacks first. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Herald runs on Node.js 24 (deploy/toolchain/node-version): the machine's node when it is that major
# version, else the official binary from the npm registry under .herald/. Every recipe runs with it first
# on PATH, and native addons (librdkafka) are built against its headers, with the system's libraries.
NODE_BIN := $(shell deploy/toolchain/node.sh)
ifeq ($(NODE_BIN),)
$(error could not find or fetch Node.js $(shell cat deploy/toolchain/node-version))
endif
export PATH := $(NODE_BIN):$(PATH)
export npm_config_nodedir := $(abspath $(NODE_BIN)/..)
export CKJS_LINKING := dynamic

NPM_STAMP := node_modules/.installed
LOCAL_KAFKA := node libs/local-kafka/dist/src/cli.js
TEST_KAFKA_DIR := .herald/test/kafka
MOCHA := npx mocha --reporter spec
UNIT_TESTS := 'libs/*/dist/src/**/*.test.js' 'services/*/dist/src/**/*.test.js' 'clients/*/dist/src/**/*.test.js' 'bench/dist/src/**/*.test.js' 'chaos/dist/src/**/*.test.js'
INTEGRATION_TESTS := 'libs/*/dist/test/**/*.test.js' 'services/*/dist/test/**/*.test.js' 'clients/*/dist/test/**/*.test.js' 'bench/dist/test/**/*.test.js' 'chaos/dist/test/**/*.test.js' 'deploy/*/dist/test/**/*.test.js'
PYTHON := python3
PY_VENV := .herald/venv
PY_STAMP := $(PY_VENV)/.installed
PY_GEN := clients/python/gen
GO := $(shell command -v go)
GO_BIN := .herald/go-bin
GO_GEN := clients/go/gen

.PHONY: help install build chromium proto proto-check lint fmt kafka-jars env-docs kubernetes-check kubernetes-rules observability-check run test test-unit test-integration test-integration-kafkajs python-client go-client clean bench bench-quick bench-profile chaos

help:
	@echo "make run     start a local Kafka, the three services and the console (Ctrl-C stops all); variables:"
	@echo "             PUBLISHER_PORT REGISTRY_PORT DISPATCHER_PORT CONSOLE_PORT HERALD_KAFKA_PORT HERALD_RUN_DIR KAFKA_BROKERS"
	@echo "make test    lint, unit tests, then integration tests against a real 3-broker Kafka"
	@echo "make build | proto | proto-check | lint | fmt | kafka-jars | clean"

$(NPM_STAMP): deploy/toolchain/node-version package.json package-lock.json $(wildcard libs/*/package.json services/*/package.json clients/*/package.json bench/package.json chaos/package.json)
	deploy/toolchain/native-deps.sh
	@# The first install builds librdkafka from source: about 2 minutes on 2 cores.
	npm ci --no-audit --no-fund
	@node -e "require('@confluentinc/kafka-javascript')" || { echo "the librdkafka build did not load; see the npm output above"; exit 1; }
	@touch $@

install: $(NPM_STAMP)

# The console's page (services/console/web), type-checked and bundled by Vite into services/console/dist/web.
CONSOLE_WEB := services/console/dist/web/index.html
$(CONSOLE_WEB): $(NPM_STAMP) $(shell find services/console/web -type f -not -path '*/node_modules/*' 2>/dev/null)
	npm run --silent -w @herald/console build:web

build: install $(CONSOLE_WEB)
	npx tsc -b

# Debian's chromium for the console's browser tests (playwright-core drives it; no browser is downloaded).
chromium:
	@deploy/toolchain/chromium.sh > /dev/null

# Regenerates libs/api from proto/ (lint first: the proto is the contract).
proto: install
	npx buf lint proto
	rm -rf libs/api/src/gen
	$(call generate,libs/api/src/gen)

# ts-proto types and clients, plus the descriptor sets that server reflection serves.
define generate
	sed "s#out: libs/api/src/gen#out: $(1)#" proto/buf.gen.yaml > $(1).buf.gen.yaml
	npx buf generate proto --template $(1).buf.gen.yaml
	rm $(1).buf.gen.yaml
	npx buf build proto -o $(1)/herald.binpb
	npx buf build node_modules/grpc-health-check/proto -o $(1)/health.binpb
endef

# Fails when libs/api/src/gen differs from what `make proto` would write.
proto-check: install
	$(eval tmp := $(shell mktemp -d))
	@$(call generate,$(tmp)/gen)
	@tmp=$(tmp); if diff -r $$tmp/gen libs/api/src/gen > /dev/null; then echo "generated code is up to date"; rm -rf $$tmp; \
	  else echo "libs/api/src/gen is stale: run 'make proto' and commit the result"; diff -r $$tmp/gen libs/api/src/gen | head -20; rm -rf $$tmp; exit 1; fi

lint: install
	npx buf lint proto
	npx eslint --max-warnings 0 .
	npx prettier --check .

fmt: install
	npx prettier --write .
	npx eslint --fix .

env-docs: build
	node libs/devstack/dist/src/env-docs.js

kafka-jars: build
	$(LOCAL_KAFKA) fetch

# Ports, the run folder and KAFKA_BROKERS come from the environment or make's command line
# (`make run PUBLISHER_PORT=60051`): see run-local.ts and README.md. The console starts once the
# services are up, on CONSOLE_PORT (9470), and prints its URL (services/console/src/run-with-stack.ts).
run: build
	node services/console/dist/src/run-with-stack.js

# The Python client test's venv (pinned requirements) and stubs generated from proto/ with grpcio-tools;
# libs/devstack/test/polyglot-clients.test.ts runs it against a real stack.
$(PY_STAMP): clients/python/requirements.txt
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

$(PY_GEN)/.generated: $(PY_STAMP) $(wildcard proto/herald/v1/*.proto)
	rm -rf $(PY_GEN) && mkdir -p $(PY_GEN)
	$(PY_VENV)/bin/python -m grpc_tools.protoc -I proto --python_out=$(PY_GEN) --pyi_out=$(PY_GEN) \
	  --grpc_python_out=$(PY_GEN) proto/herald/v1/*.proto
	@touch $@

python-client: $(PY_GEN)/.generated

# The Go client test, when a Go toolchain is installed: protoc plugins at the versions clients/go/go.mod
# pins (its `tool` lines), stubs through buf, and every module fetched and compiled here, so that the
# test itself runs offline (GOPROXY=off).
$(GO_GEN)/.generated: clients/go/go.mod clients/go/go.sum clients/go/buf.gen.yaml $(wildcard proto/herald/v1/*.proto) | install
	cd clients/go && GOBIN=$(abspath $(GO_BIN)) go install tool
	rm -rf $(GO_GEN)
	PATH=$(abspath $(GO_BIN)):$$PATH npx buf generate proto --template clients/go/buf.gen.yaml
	cd clients/go && go mod download && go vet .
	@touch $@

go-client: $(GO_GEN)/.generated

# Go tools the checks run, built from the Go module proxy at the versions deploy/toolchain pins, under
# .herald/ (needs Go 1.26.7+): Prometheus's promtool, and kustomize for the Kubernetes overlays.
PROMTOOL := .herald/promtool-$(shell cat deploy/toolchain/promtool-version)/promtool
KUSTOMIZE := .herald/kustomize-$(shell cat deploy/toolchain/kustomize-version)/kustomize
$(PROMTOOL) $(KUSTOMIZE):
	deploy/toolchain/go-tool.sh $(notdir $@) > /dev/null

# The alerting rules (deploy/observability): promtool's syntax check, then its unit tests of every alert.
observability-check: $(PROMTOOL)
	$(PROMTOOL) check rules deploy/observability/herald-alerts.yaml
	$(PROMTOOL) test rules deploy/observability/herald-alerts.test.yaml

# The Kubernetes manifests, checked against the API schemas (offline; the schemas ship with the package,
# the Prometheus Operator's are in deploy/kubernetes/schemas).
KUBE_STAMP := .herald/kube-venv/.installed
$(KUBE_STAMP): deploy/kubernetes/requirements.txt
	$(PYTHON) -m venv .herald/kube-venv
	.herald/kube-venv/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

# The base and its overlays (dev, prod) rendered with kustomize, each object validated, then what the manifests
# promise checked (security context, spread over nodes, ports, autoscalers...): deploy/kubernetes/check.py.
kubernetes-check: $(KUBE_STAMP) $(KUSTOMIZE)
	.herald/kube-venv/bin/python deploy/kubernetes/check.py --kustomize $(KUSTOMIZE)

# Writes deploy/kubernetes/base/prometheus-rule.yaml from deploy/observability/herald-alerts.yaml;
# kubernetes-check fails while they differ.
kubernetes-rules: $(KUBE_STAMP)
	.herald/kube-venv/bin/python deploy/kubernetes/check.py --write-prometheus-rule

# Unit tests are quick, but the machine may be shared and busy: a generous timeout keeps a slow run from failing.
test-unit: build
	$(MOCHA) --timeout 30000 $(UNIT_TESTS)

# Integration tests share one real Kafka (3 brokers unless KAFKA_BROKERS is set);
# whatever happens, nothing of it is left running afterwards.
# $(1): environment for the run; $(2): the test files. Whatever happens, no test Kafka is left running.
define integration-run
	@$(LOCAL_KAFKA) stop --dir $(TEST_KAFKA_DIR)
	@status=0; $(1) $(MOCHA) --exit --timeout 240000 --require libs/testkit/dist/src/mocha-fixtures.js $(2) || status=$$?; \
	  $(LOCAL_KAFKA) stop --dir $(TEST_KAFKA_DIR); exit $$status
endef

test-integration: build chromium $(if $(KAFKA_BROKERS),,kafka-jars) python-client $(if $(GO),go-client) $(PROMTOOL)
	$(call integration-run,,$(INTEGRATION_TESTS))

# kafkajs stays behind the same seal as long as it passes the services' integration tests.
SERVICE_TESTS := 'services/*/dist/test/**/*.test.js'
test-integration-kafkajs: build chromium $(if $(KAFKA_BROKERS),,kafka-jars)
	$(call integration-run,HERALD_KAFKA_CLIENT=kafkajs,$(SERVICE_TESTS))

test: build proto-check lint kubernetes-check observability-check test-unit test-integration test-integration-kafkajs

clean:
	rm -rf libs/*/dist services/*/dist clients/*/dist bench/dist chaos/dist deploy/*/dist .herald/test .herald/run

# Benchmarks (never part of `make test`): their own one-broker Kafka on port 31492, unless KAFKA_BROKERS
# is set, and a Herald stack; the report goes to bench/results/<timestamp>/report.md.
bench: build kafka-jars
	node bench/dist/src/run.js

bench-quick: build kafka-jars
	node bench/dist/src/run.js --quick

# The end-to-end scenario and its baseline, with the publisher and dispatcher CPU-profiled (see bench/README.md).
bench-profile: build kafka-jars
	node bench/dist/src/run.js --quick --profile --only raw-kafkajs-end-to-end,herald-end-to-end

# The fault-injection suite (never part of `make test`, which runs its short version): its own 3-broker Kafka
# on ports 29492-29497 and two instances of each service; the report goes to chaos/reports/<timestamp>.md.
# CHAOS_FLAGS passes options to it: `make chaos CHAOS_FLAGS=--secure` runs it with TLS, mTLS and role bindings.
chaos: build kafka-jars
	node chaos/dist/src/run.js $(CHAOS_FLAGS)
