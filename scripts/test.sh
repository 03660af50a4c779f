#!/usr/bin/env bash
# The whole test suite: formatting, vet, staticcheck, every test under the race
# detector (shuffled), the allocation tests without it, then a short run of
# every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bench/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go test -race -shuffle=on -count=1 -timeout 20m ./...
# The allocation tests again without the race detector, whose sync.Pool drops
# items on purpose (TestEchoZeroAllocs skips itself under -race).
go test -count=1 -run 'Alloc' ./...
./scripts/fuzz.sh # FUZZTIME: 100000x unless set
