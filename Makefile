# The README's commands. Everything real happens in Meson (meson.build) and scripts/.
.PHONY: all build run test test-fast bench fuzz clean

all: build

build:
	@scripts/deps.sh build
	@[ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized >/dev/null
	@ninja -C build

# Build, create a vault under ./var with the iXsystems example policy, and start the HTTP server
# (prints its URL and an admin API key). scripts/demo.sh --cli walks through a CLI session instead.
run: build
	@scripts/demo.sh

# Every test, in the normal build and under ASan+UBSan; ends with "N passed, N failed".
test:
	@scripts/deps.sh test
	@scripts/test.sh

# The normal build's tests only.
test-fast:
	@scripts/deps.sh test
	@PRIVAULT_FAST=1 scripts/test.sh

bench: build
	@scripts/bench.sh

# libFuzzer builds of the fuzz targets (clang).
fuzz:
	@scripts/deps.sh test
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dbench=false -Db_lundef=false >/dev/null
	@ninja -C build-fuzz

clean:
	rm -rf build build-asan build-fuzz build.*.log build-asan.*.log
