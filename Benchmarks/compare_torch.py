#!/usr/bin/env python3
"""Compare attention-bench with PyTorch's CPU scaled_dot_product_attention.

Runs `attention-bench --json` for this package's numbers, then times
torch.nn.functional.scaled_dot_product_attention on the same shapes, thread
counts and causal settings, and prints both side by side. The ratio is
PyTorch's median time divided by ours, so a ratio above 1 means this package
is faster. With --rounds N both run N times in turns, and the table gives
the median ratio over the rounds and its range. Taking the runs in turns
keeps a drift of the machine's speed from biasing the ratio.

Usage:
    swift build -c release
    python3 Benchmarks/compare_torch.py [--threads N] [--shape B,H,Lq,Lk,D ...]
                                        [--causal] [--quick] [--rounds N] [--bench PATH]

PyTorch must be importable; without it the script prints how to install it
and exits with status 3 before running anything. Without the benchmark
executable it prints how to build it and exits with status 2. When
attention-bench cannot start, fails or writes no usable report, the script
reports the failure after the benchmark's own messages and exits with status
4, before timing PyTorch. The table follows attention-bench's header, which names the
machine and warns when other processes disturbed the run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TORCH_MISSING_STATUS = 3
BENCH_MISSING_STATUS = 2
BENCH_FAILED_STATUS = 4


class BenchFailure(Exception):
    """attention-bench could not start, failed, or wrote no usable report."""


def positive_integer(text):
    """Parse a whole number of at least 1 for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number, got {!r}".format(text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected at least 1, got {}".format(value))
    return value


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=os.path.join(".build", "release", "attention-bench"),
                        help="path to the release attention-bench executable")
    parser.add_argument("--threads", type=positive_integer, help="worker threads for the multi-thread runs")
    parser.add_argument("--shape", action="append", default=[], help="B,H,Lq,Lk,D; repeatable")
    parser.add_argument("--causal", action="store_true", help="make the --shape runs causal")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and a smaller suite")
    parser.add_argument("--repetitions", type=positive_integer,
                        help="timed PyTorch calls per shape (default 5, or 3 with --quick)")
    parser.add_argument("--rounds", type=positive_integer, default=1,
                        help="run attention-bench and then PyTorch this many times in turns, and report "
                             "the median ratio and its range (default 1)")
    arguments = parser.parse_args(argv)
    if arguments.repetitions is None:
        arguments.repetitions = 3 if arguments.quick else 5
    return arguments


def import_torch():
    """Return the torch module, or None after explaining how to get it."""
    try:
        import torch  # noqa: PLC0415 (imported here so the message can explain a failure)
        return torch
    except ImportError as error:
        sys.stderr.write(
            "compare_torch.py: PyTorch is not installed ({}).\n"
            "Install a CPU build, for example `pip install torch --index-url "
            "https://download.pytorch.org/whl/cpu`, and run this script again.\n"
            "Nothing was run.\n".format(error))
        return None


def find_bench(path):
    """Return whether the benchmark executable exists, after explaining how
    to build it when it does not."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return True
    sys.stderr.write(
        "compare_torch.py: attention-bench not found at {}.\n"
        "Run `swift build -c release` in the package root and start this script there, "
        "or pass --bench PATH.\n".format(path))
    return False


def header_lines(output):
    """Return attention-bench's header: the lines before its first blank
    line, which give the machine, the sgemm rates and any warning."""
    lines = []
    for line in output.splitlines():
        if not line.strip():
            break
        lines.append(line)
    return lines


def run_ours(arguments):
    """Run attention-bench and return its decoded JSON report and its header."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ours.json")
        command = [arguments.bench, "--json", path]
        if arguments.threads:
            command += ["--threads", str(arguments.threads)]
        for shape in arguments.shape:
            command += ["--shape", shape]
        if arguments.causal:
            command.append("--causal")
        if arguments.quick:
            command.append("--quick")
        displayed_command = [arguments.bench] + command[3:]
        sys.stderr.write("running {} (its JSON report goes to a temporary file)\n".format(
            " ".join(displayed_command)))
        # Progress lines pass through as they come, except the one naming
        # the temporary report, which is deleted when this function returns.
        # The table goes to a file, so that a long table cannot fill a pipe
        # while this loop waits for progress lines.
        table_path = os.path.join(folder, "table.txt")
        try:
            with open(table_path, "w", encoding="utf-8") as table, subprocess.Popen(
                    command, stdout=table, stderr=subprocess.PIPE, text=True, errors="replace") as process:
                for line in process.stderr:
                    if line.rstrip("\n") != "wrote " + path:
                        sys.stderr.write(line)
        except OSError as error:
            raise BenchFailure("could not start {}: {}".format(arguments.bench, error)) from None
        if process.returncode < 0:
            raise BenchFailure("attention-bench was killed by signal {}".format(-process.returncode))
        if process.returncode != 0:
            raise BenchFailure("attention-bench exited with status {}".format(process.returncode))
        with open(table_path, encoding="utf-8", errors="replace") as handle:
            table_text = handle.read()
        return read_report(path), header_lines(table_text)


def read_report(path):
    """Return the report attention-bench wrote to path, after checking the
    fields this script reads."""
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError) as error:
        raise BenchFailure("attention-bench wrote no readable report: {}".format(error)) from None
    valid = (isinstance(report, dict) and isinstance(report.get("machine"), dict)
             and isinstance(report["machine"].get("threadCount"), int)
             and isinstance(report.get("results"), list))
    if not valid:
        raise BenchFailure("attention-bench's report is missing machine.threadCount or results")
    return report


def time_torch(torch, result, threads, repetitions):
    """Median milliseconds of PyTorch's SDPA on the shape of one result."""
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    b, h = result["batch"], result["heads"]
    lq, lk, d = result["queryLength"], result["keyLength"], result["headDimension"]
    q = torch.rand((b, h, lq, d), generator=generator) * 2 - 1
    k = torch.rand((b, h, lk, d), generator=generator) * 2 - 1
    v = torch.rand((b, h, lk, d), generator=generator) * 2 - 1
    attention = torch.nn.functional.scaled_dot_product_attention
    with torch.no_grad():
        attention(q, k, v, is_causal=result["causal"])
        times = []
        for _ in range(repetitions):
            start = time.perf_counter()
            attention(q, k, v, is_causal=result["causal"])
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def tiled_timings(report):
    """Return (result, timing) for every tiled timing of a generated shape
    in an attention-bench report."""
    pairs = []
    for result in report["results"]:
        # The 3-token example and the MiniLM layer run on fixed inputs (the
        # MiniLM layer with key padding), so only generated shapes compare.
        if not result["name"].startswith("["):
            continue
        pairs += [(result, timing) for timing in result["timings"] if timing["path"] == "tiled"]
    return pairs


def time_round(torch, report, repetitions):
    """Time PyTorch on every generated shape of one attention-bench report.
    Returns (shape, threads, ours ms, torch ms) per tiled timing."""
    return [(result["name"], timing["threads"], timing["medianMilliseconds"],
             time_torch(torch, result, timing["threads"], repetitions))
            for result, timing in tiled_timings(report)]


def table_rows(rounds):
    """Build the printed rows from the timings of every round: medians of
    both engines' times and of the per-round ratios, with the ratios'
    range when there is more than one round."""
    several = len(rounds) > 1
    header = ("shape", "threads", "ours ms", "torch ms", "torch/ours")
    rows = [header + ("range",) if several else header]
    for index, (name, threads, _, _) in enumerate(rounds[0]):
        ours = [timings[index][2] for timings in rounds]
        theirs = [timings[index][3] for timings in rounds]
        ratios = [torch_ms / ours_ms for ours_ms, torch_ms in zip(ours, theirs) if ours_ms > 0]
        ratio = "{:.2f}".format(statistics.median(ratios)) if ratios else "-"
        row = (name, str(threads), "{:.2f}".format(statistics.median(ours)),
               "{:.2f}".format(statistics.median(theirs)), ratio)
        if several:
            row += ("{:.2f}-{:.2f}".format(min(ratios), max(ratios)) if ratios else "-",)
        rows.append(row)
    return rows


def main(argv):
    arguments = parse_arguments(argv)
    torch = import_torch()
    if torch is None:
        return TORCH_MISSING_STATUS

    if not find_bench(arguments.bench):
        return BENCH_MISSING_STATUS

    # Each round runs the whole benchmark and then PyTorch on its shapes, so
    # a machine whose speed drifts slows both engines in turn.
    rounds = []
    for _ in range(arguments.rounds):
        try:
            report, header = run_ours(arguments)
        except BenchFailure as error:
            sys.stderr.write(
                "compare_torch.py: {}. Its messages, if any, are above. PyTorch was not timed.\n".format(error))
            return BENCH_FAILED_STATUS
        if rounds:
            first = [(name, threads) for name, threads, _, _ in rounds[0]]
            if [(result["name"], timing["threads"]) for result, timing in tiled_timings(report)] != first:
                sys.stderr.write(
                    "compare_torch.py: attention-bench reported other shapes in a later round than in the first;"
                    " rerun the comparison.\n")
                return BENCH_FAILED_STATUS
        else:
            first_report, first_header = report, header
        rounds.append(time_round(torch, report, arguments.repetitions))

    for line in first_header:
        print(line)
    print()
    rounds_text = "" if arguments.rounds == 1 else ", {} rounds in turns".format(arguments.rounds)
    print("PyTorch {} (CPU SDPA) against attention-bench ({} build, {} threads{})".format(
        torch.__version__, first_report["machine"]["buildMode"], first_report["machine"]["threadCount"],
        rounds_text))
    rows = table_rows(rounds)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        print("  ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
