# The two commands of README.md: `make demo` and `make test`.
.PHONY: all build setup demo test test-asan test-tsan bench clean

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

bench: build
	@bench/run many-task
	@bench/run latency

clean:
	rm -rf build
