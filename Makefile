# The two commands a fresh machine needs (see README.md):
#   make quickstart   set up, build, and run a quick real fine-tuning run
#   make test         set up, build, and run the whole test suite
JOBS ?= $(shell nproc)
BUILD ?= build

.PHONY: setup setup-test build build-cli quickstart test format check-format

setup:
	@scripts/setup

setup-test:
	@scripts/setup --test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# Only the mlxt program: the quickstart needs no test binaries, which are
# most of a full build's time.
build-cli: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS) --target mlxt_cli

quickstart: build-cli
	@scripts/quickstart

test: setup-test $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)
	@scripts/check-format
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')
