# volley: the Makefile and .ci/run call the same scripts.
.PHONY: run build test fuzz vet

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
