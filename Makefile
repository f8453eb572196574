# The two commands of README.md: `make demo` and `make test`.
.PHONY: all build setup demo test test-asan test-tsan fuzz bench clean

JOBS ?= $(shell nproc)

all: build

setup:
	@scripts/setup

build: setup
	@cmake --preset dev >/dev/null
	@cmake --build build -j $(JOBS)

demo: build
	@scripts/demo

test: build
	@ctest --test-dir build --output-on-failure -j $(JOBS) --timeout 600

test-asan: setup
	@cmake --preset asan >/dev/null && cmake --build build/asan -j $(JOBS)
	@ctest --test-dir build/asan --output-on-failure -j $(JOBS) --timeout 900

test-tsan: setup
	@cmake --preset tsan >/dev/null && cmake --build build/tsan -j $(JOBS)
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tsan.supp" ctest --test-dir build/tsan --output-on-failure -j $(JOBS) --timeout 900

# Every libFuzzer target for FUZZ_SECONDS each (CI: 20), from the seeds in tests/fuzz/.
FUZZ_SECONDS ?= 600
fuzz: setup
	@cmake --preset fuzz >/dev/null && cmake --build build/fuzz --target fuzzers -j $(JOBS)
	@scripts/fuzz build/fuzz/fuzz $(FUZZ_SECONDS)

bench: build
	@bench/run many-task
	@bench/run latency

clean:
	rm -rf build
