"""Tests of compare_torch.py that run without PyTorch.

Run with: python3 -m unittest discover -s Benchmarks -p "test_*.py"
"""

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


if __name__ == "__main__":
    unittest.main()
