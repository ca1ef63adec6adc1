#!/usr/bin/env python3
"""Hostile-input sweep of the `attention` command-line tool.

Runs `attention sdpa` and `attention self` on malformed, truncated and
mismatched .npy files, invalid flags and unwritable output paths. Every case
must exit non-zero, print exactly one line to standard error, and leave no
file behind in the output directory (neither a partial output nor a
temporary file). One valid run per subcommand checks that the setup itself
works, so a broken sweep cannot pass by failing everything.

Usage: Fuzz/cli-sweep.py [PATH_TO_ATTENTION]   (default .build/debug/attention)
Needs only the Python standard library. Exits 1 when any case misbehaves.
"""
import os
import resource
import struct
import subprocess
import sys
import tempfile


def npy_bytes(descr, shape, data, version=1, fortran=False, header=None):
    """Returns a .npy file; `header` replaces the dictionary text when given."""
    if header is None:
        dims = "".join(f"{size}, " for size in shape) if len(shape) == 1 else ", ".join(str(s) for s in shape)
        header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': ({dims}), }}"
    text = header.encode("latin-1")
    length_size = 2 if version == 1 else 4
    prefix = 6 + 2 + length_size
    padding = (64 - (prefix + len(text) + 1) % 64) % 64
    text += b" " * padding + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def float32_npy(shape, fill=0.25):
    count = 1
    for size in shape:
        count *= size
    return npy_bytes("<f4", shape, struct.pack(f"<{count}f", *([fill] * count)))


class Sweep:
    def __init__(self, tool):
        self.tool = tool
        self.root = tempfile.mkdtemp(prefix="attention-cli-sweep-")
        self.inputs = os.path.join(self.root, "inputs")
        self.outputs = os.path.join(self.root, "outputs")
        os.mkdir(self.inputs)
        os.mkdir(self.outputs)
        self.failures = []
        self.passed = 0

    def write(self, name, data):
        path = os.path.join(self.inputs, name)
        with open(path, "wb") as file:
            file.write(data)
        return path

    def out(self, name):
        return os.path.join(self.outputs, name)

    def clear_outputs(self):
        for name in os.listdir(self.outputs):
            path = os.path.join(self.outputs, name)
            if os.path.isdir(path):
                os.rmdir(path)
            else:
                os.unlink(path)

    def run(self, arguments):
        # The address-space limit turns an oversized allocation into a
        # failed run instead of memory pressure on the whole machine.
        def limit_memory():
            limit = 8 * 1024**3
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        return subprocess.run([self.tool] + arguments, capture_output=True, timeout=120, preexec_fn=limit_memory)

    def expect_success(self, label, arguments):
        self.clear_outputs()
        result = self.run(arguments)
        if result.returncode != 0:
            self.failures.append(f"{label}: valid run failed with status {result.returncode}: {result.stderr!r}")
        else:
            self.passed += 1
        self.clear_outputs()

    def expect_failure(self, label, arguments, keep=()):
        """Runs a hostile case; `keep` lists output-directory entries the
        case itself created before the run."""
        result = self.run(arguments)
        problems = []
        if result.returncode == 0:
            problems.append("exited 0")
        if result.returncode < 0:
            problems.append(f"killed by signal {-result.returncode}")
        lines = result.stderr.decode("utf-8", "replace").splitlines()
        if len(lines) != 1 or not lines[0].strip():
            problems.append(f"printed {len(lines)} stderr lines: {lines[:5]!r}")
        left = sorted(set(os.listdir(self.outputs)) - set(keep))
        if left:
            problems.append(f"left files {left!r}")
        if problems:
            self.failures.append(f"{label}: " + "; ".join(problems) + f" (arguments {arguments!r})")
        else:
            self.passed += 1
        self.clear_outputs()


def sdpa_cases(sweep):
    q = sweep.write("q.npy", float32_npy([1, 2, 3, 4]))
    k = sweep.write("k.npy", float32_npy([1, 2, 5, 4]))
    v = sweep.write("v.npy", float32_npy([1, 2, 5, 6]))
    base = ["sdpa", "--query", q, "--key", k, "--value", v]
    out = sweep.out("out.npy")

    sweep.expect_success("sdpa valid", base + ["--output", out, "--weights", sweep.out("w.npy"), "--lse", sweep.out("lse.npy")])

    valid = float32_npy([1, 2, 3, 4])
    hostile_files = {
        "empty file": b"",
        "text file": b"not a numpy file\n",
        "magic only": b"\x93NUMPY",
        "truncated header length": valid[:9],
        "truncated header": valid[:40],
        "truncated data": valid[:-1],
        "extra data": valid + b"\x00\x00\x00\x00",
        "header length past end": valid[:8] + b"\xff\xff" + valid[10:],
        "version 9": valid[:6] + b"\x09\x00" + valid[8:],
        "huge shape": npy_bytes("<f4", [1000000, 1000000, 1000000, 4], b""),
        "overflowing shape": npy_bytes("<f4", [2**62, 2**62, 1, 1], b""),
        "negative shape": npy_bytes("<f4", [1, -2, 3, 4], b""),
        "complex dtype": npy_bytes("<c8", [1, 2, 3, 4], b"\x00" * 192),
        "object dtype": npy_bytes("|O", [1, 2, 3, 4], b"\x00" * 192),
        "unterminated header": npy_bytes("<f4", [], b"", header="{'descr': '<f4', 'shape': (1, 2"),
        "header not a dict": npy_bytes("<f4", [], b"", header="[1, 2, 3]"),
        "missing descr": npy_bytes("<f4", [], b"", header="{'fortran_order': False, 'shape': (1,), }") + b"\x00" * 4,
        "shape with float": npy_bytes("<f4", [], b"", header="{'descr': '<f4', 'fortran_order': False, 'shape': (1.5, 2), }"),
        "invalid UTF-8 header v3": npy_bytes("<f4", [1], b"\x00" * 4, version=3, header="{'descr': '<f4', 'fortran_order': False, 'shape': (1,), '\xff': 1, }"),
        "float64 beyond float32": npy_bytes("<f8", [1, 2, 3, 4], struct.pack("<24d", *([1e300] * 24))),
        "rank 3 query": float32_npy([2, 3, 4]),
        "rank 5 query": float32_npy([1, 1, 2, 3, 4]),
    }
    for label, data in hostile_files.items():
        path = sweep.write("hostile.npy", data)
        sweep.expect_failure(f"sdpa query {label}", ["sdpa", "--query", path, "--key", k, "--value", v, "--output", out])

    mismatched = {
        "key width": ("k", float32_npy([1, 2, 5, 3])),
        "value length": ("v", float32_npy([1, 2, 4, 6])),
        "value heads": ("v", float32_npy([1, 1, 5, 6])),
        "key batch": ("k", float32_npy([2, 2, 5, 4])),
        "query heads not a multiple": ("q", float32_npy([1, 3, 3, 4])),
    }
    for label, (which, data) in mismatched.items():
        path = sweep.write(f"mismatch-{which}.npy", data)
        files = {"q": q, "k": k, "v": v}
        files[which] = path
        sweep.expect_failure(f"sdpa mismatched {label}", ["sdpa", "--query", files["q"], "--key", files["k"], "--value", files["v"], "--output", out])

    bad_mask = sweep.write("mask-shape.npy", npy_bytes("|b1", [1, 2, 3, 4], b"\x01" * 24))
    bad_padding = sweep.write("padding-dtype.npy", float32_npy([1, 5]))
    bad_padding_shape = sweep.write("padding-shape.npy", npy_bytes("|b1", [1, 4], b"\x01" * 4))
    text = sweep.write("text.npy", b"hello")
    cases = {
        "mask not broadcastable": ["--mask", bad_mask],
        "mask not npy": ["--mask", text],
        "key padding float": ["--key-padding-mask", bad_padding],
        "key padding wrong length": ["--key-padding-mask", bad_padding_shape],
        "unknown flag": ["--bogus", "1"],
        "scale not a number": ["--scale", "abc"],
        "scale empty": ["--scale", ""],
        "threads zero": ["--threads", "0"],
        "threads negative": ["--threads", "-1"],
        "threads huge": ["--threads", "99999999999999999999"],
        "layout unknown": ["--layout", "hbld"],
        "causal unknown": ["--causal", "middle"],
        "path unknown": ["--path", "fastest"],
        "flag missing value": ["--scale"],
        "duplicate flag": ["--scale", "1", "--scale", "2"],
        "positional argument": ["stray"],
        "plan with value": ["--plan=yes"],
        "weights is a directory": ["--weights", sweep.outputs],
        "weights same as output": ["--weights", out],
        "weights in missing directory": ["--weights", os.path.join(sweep.outputs, "missing", "w.npy")],
        "lse under a file": ["--lse", os.path.join(q, "lse.npy")],
    }
    for label, extra in cases.items():
        sweep.expect_failure(f"sdpa {label}", base + ["--output", out] + extra)

    # Valid inputs whose weights [1, 1, 100000, 100000] would need 40 GB.
    long_sequence = sweep.write("long.npy", float32_npy([1, 1, 100000, 1]))
    sweep.expect_failure("sdpa weights too large", ["sdpa", "--query", long_sequence, "--key", long_sequence, "--value", long_sequence, "--output", out, "--weights", sweep.out("w.npy")])

    sweep.expect_failure("sdpa missing output flag", base)
    sweep.expect_failure("sdpa missing query file", ["sdpa", "--query", os.path.join(sweep.inputs, "absent.npy"), "--key", k, "--value", v, "--output", out])
    sweep.expect_failure("sdpa query is a directory", ["sdpa", "--query", sweep.inputs, "--key", k, "--value", v, "--output", out])
    sweep.expect_failure("sdpa output in missing directory", base + ["--output", os.path.join(sweep.outputs, "missing", "out.npy")])
    sweep.expect_failure("sdpa output is a directory", base + ["--output", sweep.outputs])
    sweep.expect_failure("sdpa output under a file", base + ["--output", os.path.join(q, "out.npy")])
    sweep.expect_failure("sdpa output on /proc", base + ["--output", "/proc/attention-sweep.npy"])
    # An existing output must survive a failed run unchanged.
    with open(out, "wb") as file:
        file.write(b"previous")
    sweep.expect_failure("sdpa failure keeps old output", base + ["--output", out, "--scale", "abc"], keep=("out.npy",))
    sweep.expect_failure("unknown subcommand", ["sdpx"])
    sweep.expect_failure("no subcommand", [])


def self_cases(sweep):
    x = sweep.write("x.npy", float32_npy([5, 3]))
    out = sweep.out("self.npy")
    sweep.expect_success("self valid", ["self", "--input", x, "--output", out, "--weights", sweep.out("sw.npy")])

    inputs = {
        "rank 1": float32_npy([5]),
        "rank 3": float32_npy([1, 5, 3]),
        "truncated": float32_npy([5, 3])[:-2],
        "huge shape": npy_bytes("<f4", [10**12, 3], b""),
        "bool dtype": npy_bytes("|b1", [5, 3], b"\x01" * 15),
        "string dtype": npy_bytes("<U1", [5, 3], b"\x00" * 60),
    }
    for label, data in inputs.items():
        path = sweep.write("self-hostile.npy", data)
        sweep.expect_failure(f"self input {label}", ["self", "--input", path, "--output", out])

    base = ["self", "--input", x, "--output", out]
    sweep.expect_failure("self missing input", ["self", "--output", out])
    sweep.expect_failure("self scale not a number", base + ["--scale", "1.0.0"])
    sweep.expect_failure("self unknown flag", base + ["--causal", "top-left"])
    sweep.expect_failure("self weights same as output", base + ["--weights", out])
    sweep.expect_failure("self output in missing directory", ["self", "--input", x, "--output", os.path.join(sweep.outputs, "missing", "o.npy")])
    sweep.expect_failure("self weights unwritable", base + ["--weights", os.path.join(x, "w.npy")])
    sweep.expect_failure("self weights is a directory", base + ["--weights", sweep.outputs])

    # A valid sequence whose weights [100000, 100000] would need 40 GB.
    long_sequence = sweep.write("self-long.npy", float32_npy([100000, 1]))
    sweep.expect_failure("self weights too large", ["self", "--input", long_sequence, "--output", out, "--weights", sweep.out("sw.npy")])


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/attention"
    if not os.access(tool, os.X_OK):
        print(f"cli-sweep: the attention executable '{tool}' is missing; build it with 'swift build --product attention'", file=sys.stderr)
        return 2
    sweep = Sweep(os.path.abspath(tool))
    sdpa_cases(sweep)
    self_cases(sweep)
    for failure in sweep.failures:
        print(f"FAIL {failure}")
    print(f"cli-sweep: {sweep.passed} passed, {len(sweep.failures)} failed")
    subprocess.run(["rm", "-rf", sweep.root])
    return 1 if sweep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
