# The commands a new checkout needs on Debian or Ubuntu with Swift 6 installed.
# `make test` and `make bench` install OpenBLAS and LAPACKE first when missing.

SWIFT ?= swift
# apt-get needs root; use sudo only when not already root.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: setup build test bench release fuzz-files fuzz-long

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
build: setup
	$(SWIFT) build

# Run every test suite.
test: setup
	$(SWIFT) test

# Run the default benchmark suite from an optimized build.
bench: setup
	$(SWIFT) build -c release
	.build/release/attention-bench

# Build the library, the CLI and the benchmark with optimizations.
release: setup
	$(SWIFT) build -c release

# MARK: - Reliability runs

# Seconds per fuzzer for `make fuzz-files`, or in total for `make fuzz-long`.
SECONDS ?= 60
FUZZ_BUILD := .build/fuzz

# Coverage-guided fuzzing of the .npy and .safetensors readers with libFuzzer
# and the address sanitizer, SECONDS per reader, starting from Fuzz/corpus.
# Inputs are capped at 4 KiB, so any single allocation over 64 MiB is more
# than a file of that size justifies and counts as a finding. New corpus
# entries go to $(FUZZ_BUILD)/corpus-*, crashing inputs to
# $(FUZZ_BUILD)/artifacts-*.
fuzz-files: setup
	Fuzz/build.sh $(FUZZ_BUILD)
	@for reader in npy safetensors; do \
		case $$reader in npy) fuzzer=NPYFuzzer ;; safetensors) fuzzer=SafeTensorsFuzzer ;; esac; \
		mkdir -p $(FUZZ_BUILD)/corpus-$$reader $(FUZZ_BUILD)/artifacts-$$reader; \
		echo "fuzz-files: $$fuzzer for $(SECONDS) s"; \
		$(FUZZ_BUILD)/$$fuzzer -max_total_time=$(SECONDS) -max_len=4096 \
			-rss_limit_mb=2048 -malloc_limit_mb=64 -timeout=10 -print_final_stats=1 \
			-dict=Fuzz/$$reader.dict -artifact_prefix=$(FUZZ_BUILD)/artifacts-$$reader/ \
			$(FUZZ_BUILD)/corpus-$$reader Fuzz/corpus/$$reader || exit 1; \
	done

# The differential test of every kernel path against the float64 reference,
# for SECONDS, in an optimized build so that it covers more problems.
fuzz-long: setup
	ATTENTION_FUZZ_SECONDS=$(SECONDS) $(SWIFT) test -c release -Xswiftc -enable-testing \
		--filter DifferentialTests
