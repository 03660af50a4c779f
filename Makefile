# volley: the Makefile and .ci/run call the same scripts.
.PHONY: run build test deps fuzz vet bench bench-capped bench-build

run:
	go run ./cmd/volley

build:
	go build -o bin/volley ./cmd/volley

vet:
	go vet ./...

test:
	./scripts/test.sh

# What the real-client tests in cmd/volley need besides Debian's chromium and
# nginx (which .ci/run installs): Node's ws package, at the version that
# package-lock.json pins. npm ci runs only when the lock file is newer than
# the installed tree.
NODE_TEST_DIR := cmd/volley/testdata/node

deps: $(NODE_TEST_DIR)/node_modules/.package-lock.json

$(NODE_TEST_DIR)/node_modules/.package-lock.json: $(NODE_TEST_DIR)/package.json $(NODE_TEST_DIR)/package-lock.json
	cd $(NODE_TEST_DIR) && npm ci --no-audit --no-fund
	touch $@

fuzz:
	FUZZTIME=$${FUZZTIME:-60s} ./scripts/fuzz.sh

# Echo benchmarks against gws, gorilla, nbio and a raw gnet echo (see
# scripts/bench.sh for the settings: ROUNDS, DURATION, SCENARIOS, CAP, ...).
bench-build:
	./scripts/bench.sh build

bench:
	./scripts/bench.sh

bench-capped:
	CAP=$${CAP:-0.5} SCENARIOS="$${SCENARIOS:-a b c}" ./scripts/bench.sh
