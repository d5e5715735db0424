"""The forward-vs-reverse table of docs/forward-and-reverse.md, run as a user runs it: the
sweep counts are n forward sweeps for jacfwd and m reverse sweeps for jacrev."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sweeps_are_counted_and_both_modes_agree(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "demos" / "forward_and_reverse.py")],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")
            for line in proc.stdout.splitlines() if line.startswith("| jac")}
    assert rows["jacrev, loss by its 23 parameters"][2:4] == ["0", "1"]
    assert rows["jacfwd, loss by its 23 parameters"][2:4] == ["23", "0"]
    assert rows["jacrev, 2 logits by the 4 inputs"][2:4] == ["0", "2"]
    assert rows["jacfwd, 2 logits by the 4 inputs"][2:4] == ["4", "0"]
    assert "jacfwd and jacrev agree: True" in proc.stdout
