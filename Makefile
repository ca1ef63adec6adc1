# The commands a new checkout needs on Debian or Ubuntu with Swift 6 installed.
# `make test` and `make bench` install OpenBLAS and LAPACKE first when missing.

SWIFT ?= swift
# apt-get needs root; use sudo only when not already root.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: setup build test bench release

# Install libopenblas-dev, liblapacke-dev and pkg-config via apt-get when OpenBLAS or lapacke.h is missing.
setup:
	@if pkg-config --exists openblas 2>/dev/null && [ -f /usr/include/lapacke.h ]; then \
		echo "setup: OpenBLAS and LAPACKE are installed"; \
	else \
		echo "setup: installing libopenblas-dev liblapacke-dev pkg-config"; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y libopenblas-dev liblapacke-dev pkg-config; \
	fi

# Build the library, the CLI and the benchmark in debug mode.
build:
	$(SWIFT) build

# Run every test suite.
test: setup
	$(SWIFT) test

# Run the default benchmark suite from an optimized build.
bench: setup
	$(SWIFT) build -c release
	.build/release/attention-bench

# Build the library, the CLI and the benchmark with optimizations.
release:
	$(SWIFT) build -c release
