# The two commands of README.md: `make run` and `make test`. Both install what is missing first.
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan

.PHONY: all deps build run test unit integration bench soak clean deploy-test install unit-check image

all: build

deps:
	@bash scripts/setup.sh

build: deps
	@cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DMEC_TESTS=OFF -DMEC_BENCH=ON >/dev/null
	@cmake --build $(RELEASE) -j $(JOBS)

run: build
	$(RELEASE)/mecrouter serve

# Unit tests (GoogleTest, ctest) and integration tests (node:test, real processes on loopback),
# all against a build with AddressSanitizer and UBSan.
# The sanitized build is a unity build (CMake's CMAKE_UNITY_BUILD): each target's sources are
# compiled UNITY_BATCH at a time as one translation unit, so the standard library, Boost.Asio/Beast,
# GoogleTest and our own headers are parsed and their inline code generated once a batch instead of
# once a file. The price: names local to a file (anonymous namespace, static) must not repeat
# within a module (CONTRIBUTING.md). The release build (`make build`) compiles file by file, which
# keeps each file's includes honest. UNITY=OFF for file-by-file incremental rebuilds.
UNITY ?= ON
UNITY_BATCH ?= 8
test: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEC_SANITIZE=ON -DMEC_TESTS=ON \
	  -DCMAKE_UNITY_BUILD=$(UNITY) -DCMAKE_UNITY_BUILD_BATCH_SIZE=$(UNITY_BATCH) >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@$(MAKE) --no-print-directory unit integration deploy-test
	@$(MAKE) --no-print-directory unit-check BIN=$(CURDIR)/$(ASAN)/mecrouter

unit:
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) --timeout 300

# Two test files at a time: the suites spend most of their time waiting on real processes and
# modelled latencies (one at a time they kept a core ~40% busy), and each starts its own gateways,
# emulators and redis-server on free ports. INTEGRATION_JOBS=1 runs them one after the other.
INTEGRATION_JOBS ?= 2
integration:
	cd tests/node && MECROUTER_BIN=$(CURDIR)/$(ASAN)/mecrouter $(CURDIR)/scripts/node.sh --test --test-concurrency=$(INTEGRATION_JOBS) integration/

# The AWS CDK app (deploy/aws): its template assertions and an offline `cdk synth`.
# With the sanitized binary built (make test), the generated gateway configurations are also
# checked with `mecrouter config check`.
deploy-test:
	MECROUTER_BIN="$${MECROUTER_BIN:-$(if $(wildcard $(ASAN)/mecrouter),$(CURDIR)/$(ASAN)/mecrouter)}" bash scripts/deploy-test.sh

# `make install PREFIX=/usr/local [DESTDIR=...] [BIN=...]`: the binary, the hardened systemd unit
# and a commented default configuration (deploy/systemd); `make unit-check` verifies the unit.
PREFIX ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
BIN ?= $(RELEASE)/mecrouter
install: $(if $(filter $(RELEASE)/mecrouter,$(BIN)),build)
	bash scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)" "$(BIN)"

unit-check:
	bash scripts/unit-check.sh

# The container image (Dockerfile), built and run with podman on a locally made Debian 12 base.
image:
	bash scripts/image.sh

bench: build
	bash bench/run.sh $(RELEASE)

# Soak with faults (docs/soak.md): SOAK_MINUTES (default 10) at the highest rate that sheds nothing.
soak: build
	scripts/node.sh tests/node/tools/soak.mjs --bin $(RELEASE)/mecrouter --minutes $${SOAK_MINUTES:-10}

clean:
	rm -rf build

# --- fuzzing (issue 17; docs/fuzzing.md) ---
# `make fuzz`: clang and its libFuzzer runtime (installed if missing), each fuzz/ target for
# FUZZ_SECONDS (default 60), one after the other; prints executions and findings per target.
# `make test` replays every committed corpus without clang (ctest: fuzz_replay_<name>).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	@bash scripts/setup.sh --fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz.sh
# --- end of fuzzing ---
