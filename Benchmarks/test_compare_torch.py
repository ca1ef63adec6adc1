"""Tests of compare_torch.py that run without PyTorch.

Run with: python3 -m unittest discover -s Benchmarks -p "test_*.py"
"""

import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare_torch.py")


class MissingTorchTests(unittest.TestCase):
    def test_missing_torch_explains_and_exits(self):
        # A `torch` module that fails to import simulates a machine without
        # PyTorch, even where PyTorch is installed.
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "torch.py"), "w", encoding="utf-8") as stub:
                stub.write("raise ImportError('No module named torch (test stub)')\n")
            environment = dict(os.environ, PYTHONPATH=folder)
            # A missing benchmark path proves that nothing else is started.
            completed = subprocess.run(
                [sys.executable, SCRIPT, "--bench", os.path.join(folder, "missing-bench")],
                env=environment, capture_output=True, text=True, timeout=60)
        self.assertEqual(completed.returncode, 3)
        self.assertIn("PyTorch is not installed", completed.stderr)
        self.assertIn("pip install torch", completed.stderr)
        self.assertEqual(completed.stdout, "")


if __name__ == "__main__":
    unittest.main()
