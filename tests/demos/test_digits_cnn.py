"""demos/digits_cnn.py, run as a user runs it, with a few epochs on one seed (a smoke run:
the accuracy goal is measured by the full run, see README)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(autograd, "conv2d"),
                                reason="autograd.conv2d lands with the ops helper")


def test_digits_cnn_trains_reports_and_compares_with_the_mlp(tmp_path):
    pytest.importorskip("sklearn")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "demos" / "digits_cnn.py"), "--seeds", "3",
                           "--epochs", "3", "--min-accuracy", "0.8"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    m = re.search(r"^seed 3: CNN test accuracy (\d+\.\d+)% \((\d+)/269\), 3 epochs .*; "
                  r"MLP (\d+\.\d+)%", out, re.MULTILINE)
    assert m and float(m.group(1)) >= 80.0, out
    cm = np.array([list(map(int, line.split()[1:])) for line in
                   out.split("columns: predicted digit):\n")[1].splitlines()[1:11]])
    assert cm.shape == (10, 10) and cm.sum() == 269 and np.trace(cm) == int(m.group(2))
    assert "CNN: median test accuracy" in out and "MLP: median test accuracy" in out


def test_a_median_below_the_bar_exits_1(tmp_path):
    pytest.importorskip("sklearn")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "demos" / "digits_cnn.py"), "--seeds", "0",
                           "--epochs", "1", "--no-mlp", "--min-accuracy", "1.01"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "is below the required 101.00%" in proc.stdout
    assert "MLP" not in proc.stdout.split("core:")[1]
