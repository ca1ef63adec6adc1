"""Tests of compare_torch.py that run without PyTorch.

Run with: python3 -m unittest discover -s Benchmarks -p "test_*.py"
"""

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare_torch.py")


def run_with_torch_stub(stub_source):
    """Run the script with a `torch` module made of `stub_source` and a
    benchmark path that does not exist. Returns the completed process and
    that path."""
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "torch.py"), "w", encoding="utf-8") as stub:
            stub.write(stub_source)
        environment = dict(os.environ, PYTHONPATH=folder)
        missing = os.path.join(folder, "missing-bench")
        completed = subprocess.run(
            [sys.executable, SCRIPT, "--bench", missing],
            env=environment, capture_output=True, text=True, timeout=60)
    return completed, missing


class MissingTorchTests(unittest.TestCase):
    def test_missing_torch_explains_and_exits(self):
        # A `torch` module that fails to import simulates a machine without
        # PyTorch, even where PyTorch is installed. The missing benchmark
        # path proves that nothing else is started.
        completed, _ = run_with_torch_stub("raise ImportError('No module named torch (test stub)')\n")
        self.assertEqual(completed.returncode, 3)
        self.assertIn("PyTorch is not installed", completed.stderr)
        self.assertIn("pip install torch", completed.stderr)
        self.assertEqual(completed.stdout, "")


class MissingBenchTests(unittest.TestCase):
    def test_missing_bench_explains_and_exits(self):
        # An importable stub replaces PyTorch, so the script gets as far as
        # looking for the benchmark executable.
        completed, missing = run_with_torch_stub("__version__ = 'stub'\n")
        self.assertEqual(completed.returncode, 2)
        self.assertIn("attention-bench not found at " + missing, completed.stderr)
        self.assertIn("swift build -c release", completed.stderr)
        self.assertEqual(completed.stdout, "")


class ArgumentTests(unittest.TestCase):
    def setUp(self):
        sys.path.insert(0, os.path.dirname(SCRIPT))
        self.addCleanup(sys.path.remove, os.path.dirname(SCRIPT))
        import compare_torch  # noqa: PLC0415 (imported after the path is set)
        self.module = compare_torch

    def test_quick_runs_fewer_repetitions(self):
        self.assertEqual(self.module.parse_arguments([]).repetitions, 5)
        self.assertEqual(self.module.parse_arguments(["--quick"]).repetitions, 3)
        self.assertEqual(self.module.parse_arguments(["--quick", "--repetitions", "7"]).repetitions, 7)

    def test_header_stops_at_first_blank_line(self):
        output = "attention-bench, release build\nwarning: busy\n\nshape  path\n[1,1,8,64]  tiled\n"
        self.assertEqual(self.module.header_lines(output), ["attention-bench, release build", "warning: busy"])


class RunOursTests(unittest.TestCase):
    """run_ours against a stand-in for attention-bench: a Python script that
    writes a small report to the --json path and prints the same kinds of
    lines as the real one."""

    # The thread count picks the outcome: status N - 1 for N threads, except
    # 10 (killed by signal 9), 12 (exit 0 without a report), 13 (an empty
    # JSON object) and 14 (bytes that are not UTF-8, then status 13).
    STAND_IN = (
        "import json, os, signal, sys\n"
        "path = sys.argv[sys.argv.index('--json') + 1]\n"
        "threads = int(sys.argv[sys.argv.index('--threads') + 1])\n"
        "if threads == 10: os.kill(os.getpid(), signal.SIGKILL)\n"
        "if threads == 12: sys.exit(0)\n"
        "if threads == 13: json.dump({}, open(path, 'w')); sys.exit(0)\n"
        "if threads == 14:\n"
        "    sys.stderr.buffer.write(b'bad \\xff byte\\n'); sys.stdout.buffer.write(b'\\xff\\n'); sys.exit(13)\n"
        "sys.stderr.write('measuring the sgemm rate\\n')\n"
        "print('attention-bench, release build')\n"
        "print('')\n"
        "print('shape  path')\n"
        "report = {'machine': {'threadCount': threads}, 'results': [], 'arguments': sys.argv[1:]}\n"
        "json.dump(report, open(path, 'w'))\n"
        "sys.stderr.write('wrote ' + path + '\\n')\n"
        "sys.exit(threads - 1)\n")

    def setUp(self):
        sys.path.insert(0, os.path.dirname(SCRIPT))
        self.addCleanup(sys.path.remove, os.path.dirname(SCRIPT))
        import compare_torch  # noqa: PLC0415 (imported after the path is set)
        self.module = compare_torch
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.bench = os.path.join(folder.name, "attention-bench")
        with open(self.bench, "w", encoding="utf-8") as handle:
            handle.write("#!" + sys.executable + "\n" + self.STAND_IN)
        os.chmod(self.bench, 0o755)

    def run_ours(self, threads):
        arguments = self.module.parse_arguments(
            ["--bench", self.bench, "--threads", str(threads), "--shape", "1,1,8,8,64"])
        errors = tempfile.TemporaryFile(mode="w+")
        self.addCleanup(errors.close)
        saved, sys.stderr = sys.stderr, errors
        try:
            return self.module.run_ours(arguments)
        finally:
            sys.stderr = saved
            errors.seek(0)
            self.stderr = errors.read()

    def test_progress_passes_without_temporary_path(self):
        report, header = self.run_ours(threads=1)
        self.assertEqual(header, ["attention-bench, release build"])
        self.assertEqual(report["arguments"][-2:], ["--shape", "1,1,8,8,64"])
        self.assertIn("measuring the sgemm rate\n", self.stderr)
        self.assertNotIn("wrote", self.stderr)
        self.assertNotIn("ours.json", self.stderr)
        self.assertIn("running " + self.bench + " --threads 1 --shape 1,1,8,8,64", self.stderr)

    def test_failures_raise_with_reason(self):
        # The thread count selects how the stand-in fails (see STAND_IN).
        cases = [
            (2, "exited with status 1"),
            (10, "killed by signal 9"),
            (12, "no readable report"),
            (13, "missing machine.threadCount"),
            (14, "exited with status 13"),
        ]
        for threads, reason in cases:
            with self.subTest(threads=threads), self.assertRaisesRegex(self.module.BenchFailure, reason):
                self.run_ours(threads=threads)

    def test_invalid_bytes_pass_as_replacements(self):
        # With 14 threads the stand-in writes a byte that is not UTF-8 to
        # both streams before it fails.
        with self.assertRaises(self.module.BenchFailure):
            self.run_ours(threads=14)
        self.assertIn("\ufffd", self.stderr)

    def test_unstartable_bench_raises(self):
        with open(self.bench, "w", encoding="utf-8") as handle:
            handle.write("#!/nonexistent/interpreter\n")
        with self.assertRaisesRegex(self.module.BenchFailure, "could not start"):
            self.run_ours(threads=1)

    def test_threads_and_repetitions_must_be_positive(self):
        for option in ("--threads", "--repetitions"):
            for value in ("0", "-1", "two"):
                with self.subTest(option=option, value=value), self.assertRaises(SystemExit):
                    with contextlib.redirect_stderr(io.StringIO()):
                        self.module.parse_arguments([option, value])

    def test_failure_exits_with_status_4(self):
        # A stub replaces PyTorch. The run stops before timing it.
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        with open(os.path.join(folder.name, "torch.py"), "w", encoding="utf-8") as stub:
            stub.write("__version__ = 'stub'\n")
        completed = subprocess.run(
            [sys.executable, SCRIPT, "--bench", self.bench, "--threads", "3"],
            env=dict(os.environ, PYTHONPATH=folder.name), capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 4)
        self.assertIn("attention-bench exited with status 2", completed.stderr)
        self.assertNotIn("Traceback", completed.stderr)
        self.assertEqual(completed.stdout, "")


class RoundsTests(unittest.TestCase):
    """--rounds against a stand-in for attention-bench whose times change
    from round to round, and a stub for PyTorch whose calls return at once."""

    TORCH_STUB = (
        "__version__ = 'stub'\n"
        "class _Tensor:\n"
        "    def __mul__(self, other): return self\n"
        "    def __sub__(self, other): return self\n"
        "class _Generator:\n"
        "    def manual_seed(self, seed): return self\n"
        "def Generator(): return _Generator()\n"
        "def set_num_threads(count): pass\n"
        "def rand(shape, generator=None): return _Tensor()\n"
        "class no_grad:\n"
        "    def __enter__(self): return self\n"
        "    def __exit__(self, *details): return False\n"
        "class nn:\n"
        "    class functional:\n"
        "        @staticmethod\n"
        "        def scaled_dot_product_attention(q, k, v, is_causal=False): return q\n")

    # Round n (counted in a file beside the stand-in) reports 10, 30 and 20
    # ms on two threads and twice that on one; with ROUND_SHAPES=change the
    # second round reports another shape.
    STAND_IN = (
        "import json, os, sys\n"
        "path = sys.argv[sys.argv.index('--json') + 1]\n"
        "counter = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'round')\n"
        "index = int(open(counter).read()) if os.path.exists(counter) else 0\n"
        "open(counter, 'w').write(str(index + 1))\n"
        "milliseconds = [10.0, 30.0, 20.0][index % 3]\n"
        "name = '[1,1,16,64]' if index == 1 and os.environ.get('ROUND_SHAPES') == 'change' else '[1,1,8,64]'\n"
        "shape = {'batch': 1, 'heads': 1, 'queryLength': 8, 'keyLength': 8, 'headDimension': 64, 'causal': False}\n"
        "timings = [{'path': 'tiled', 'threads': 2, 'medianMilliseconds': milliseconds},\n"
        "           {'path': 'tiled', 'threads': 1, 'medianMilliseconds': 2 * milliseconds},\n"
        "           {'path': 'materialized', 'threads': 2, 'medianMilliseconds': 99.0}]\n"
        "results = [dict(shape, name=name, timings=timings),\n"
        "           dict(shape, name='3-token example', timings=timings)]\n"
        "json.dump({'machine': {'threadCount': 2, 'buildMode': 'release'}, 'results': results}, open(path, 'w'))\n"
        "print('attention-bench, release build (round %d)' % (index + 1))\n"
        "print('')\n")

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = folder.name
        self.bench = os.path.join(self.folder, "attention-bench")
        with open(self.bench, "w", encoding="utf-8") as handle:
            handle.write("#!" + sys.executable + "\n" + self.STAND_IN)
        os.chmod(self.bench, 0o755)
        with open(os.path.join(self.folder, "torch.py"), "w", encoding="utf-8") as handle:
            handle.write(self.TORCH_STUB)

    def run_script(self, rounds, **environment):
        return subprocess.run(
            [sys.executable, SCRIPT, "--bench", self.bench, "--rounds", str(rounds), "--repetitions", "1"],
            env=dict(os.environ, PYTHONPATH=self.folder, **environment),
            capture_output=True, text=True, timeout=60)

    def test_three_rounds_report_medians_and_range(self):
        completed = self.run_script(rounds=3)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        lines = completed.stdout.splitlines()
        self.assertEqual(lines[0], "attention-bench, release build (round 1)")
        self.assertIn("3 rounds in turns", completed.stdout)
        self.assertEqual(lines[3].split(), ["shape", "threads", "ours", "ms", "torch", "ms", "torch/ours", "range"])
        two_threads = lines[4].split()
        self.assertEqual(two_threads[:3], ["[1,1,8,64]", "2", "20.00"])
        self.assertRegex(two_threads[5], r"^\d+\.\d\d-\d+\.\d\d$")
        one_thread = lines[5].split()
        self.assertEqual(one_thread[:3], ["[1,1,8,64]", "1", "40.00"])
        # Fixed-input cases and other paths are left out.
        self.assertEqual(len(lines), 6)

    def test_one_round_has_no_range(self):
        completed = self.run_script(rounds=1)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertNotIn("range", completed.stdout)
        self.assertNotIn("rounds in turns", completed.stdout)
        row = completed.stdout.splitlines()[4].split()
        self.assertEqual(row[:3], ["[1,1,8,64]", "2", "10.00"])
        self.assertEqual(len(row), 5)

    def test_changed_shapes_stop_the_run(self):
        completed = self.run_script(rounds=2, ROUND_SHAPES="change")
        self.assertEqual(completed.returncode, 4)
        self.assertIn("reported other shapes in a later round", completed.stderr)
        self.assertEqual(completed.stdout, "")


if __name__ == "__main__":
    unittest.main()
