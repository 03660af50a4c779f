# volley: the Makefile and .ci/run call the same scripts.
.PHONY: run build test fuzz vet bench bench-capped bench-build

run:
	go run ./cmd/volley

build:
	go build -o bin/volley ./cmd/volley

vet:
	go vet ./...

test:
	./scripts/test.sh

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
