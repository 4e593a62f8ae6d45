# The two commands of README.md: `make run` and `make test`. Both install what is missing first.
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan

.PHONY: all deps build run test unit integration bench clean

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
test: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEC_SANITIZE=ON -DMEC_TESTS=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@$(MAKE) --no-print-directory unit integration

unit:
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) --timeout 300

integration:
	cd tests/node && MECROUTER_BIN=$(CURDIR)/$(ASAN)/mecrouter $(CURDIR)/scripts/node.sh --test --test-concurrency=1 integration/

bench: build
	bash bench/run.sh $(RELEASE)

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
