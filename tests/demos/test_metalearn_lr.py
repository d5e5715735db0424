"""The learning-rate metalearning demo, run as a user runs it, for a few meta-steps: its
first hypergradient (through the unrolled SGD steps) equals torch.func's to 1e-8."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_hypergradient_matches_torch_and_the_lr_moves(tmp_path):
    pytest.importorskip("mnist1d")
    pytest.importorskip("torch")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "demos" / "metalearn_lr.py"), "--meta-steps", "4",
         "--unroll", "3", "--check", "--meta-lr", "0.3"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
        text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    match = re.search(r"ours (\S+), torch.func (\S+), relative difference (\S+) \(agree", out)
    assert match, out
    ours, theirs = float(match.group(1).rstrip(",")), float(match.group(2).rstrip(","))
    assert abs(ours - theirs) <= 1e-8 * abs(theirs) and ours != 0.0
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\s+\d", line)]
    assert len(rows) == 4
    final = float(re.search(r"final learning rate (\S+)", out).group(1))
    assert final != 0.01  # the learning rate was learned (moved)
