# volley: the Makefile and .ci/run call the same scripts.
.PHONY: run build test deps fuzz vet bench bench-capped bench-build bench-ab bench-fanout bench-fanout-nodes plots

# cmd/volley is a module of its own (its NATS broker stays out of the
# library's go.mod).
run:
	go -C cmd/volley run .

build:
	go -C cmd/volley build -o $(CURDIR)/bin/volley .

vet:
	go vet ./...

# The whole suite, reported stage by stage (.ci/test.sh); it runs
# .ci/deps.sh first.
test:
	@./.ci/test.sh

# What the tests need beyond Go (chromium, nginx, nats-server, promtool,
# Node's ws): installed when missing. make test runs it first.
deps:
	@./.ci/deps.sh

fuzz:
	@FUZZTIME=$${FUZZTIME:-1000000x} ./.ci/fuzz.sh

# Echo benchmarks against gws, gorilla, nbio and a raw gnet echo (see
# bench/scripts/bench.sh for the settings: ROUNDS, DURATION, SCENARIOS, CAP, ...).
bench-build:
	./bench/scripts/bench.sh build

bench:
	./bench/scripts/bench.sh

bench-capped:
	CAP=$${CAP:-0.5} SCENARIOS="$${SCENARIOS:-a b c}" ./bench/scripts/bench.sh

# This checkout against another commit's build (BASE), capped, b and c, 7
# rounds: see bench/scripts/bench-ab.sh.
bench-ab:
	./bench/scripts/bench-ab.sh $(BASE)

# Fan-out benchmark: volley's topics against a registry of connections and
# the peers' broadcast, f1 f2 f3 steady-f2, the server capped at half a
# core (CAP= for none; settings: bench/scripts/bench-fanout.sh).
.PHONY: bench-fanout
bench-fanout:
	CAP=$${CAP-0.5} ./bench/scripts/bench-fanout.sh

# f1 against one node and against two nodes joined by a nats-server
# (bench/scripts/bench-fanout-nodes.sh).
bench-fanout-nodes:
	./bench/scripts/bench-fanout-nodes.sh

# The PNG plots of BENCHMARKS.md and README.md (bench/plots/*.png), drawn
# with gonum/plot from the results published in bench/published/; a module
# of its own, so gonum stays out of the library's go.mod.
plots:
	go -C bench/plots run .
