"""demos/ddp.py under a real torchrun: two processes, gloo on 127.0.0.1, DistributedDataParallel
training a model built with nn, in agreement with one process of this engine."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _torchrun():
    beside = Path(sys.executable).with_name("torchrun")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "torch.distributed.run"]


@pytest.mark.skipif(sys.platform == "win32", reason="gloo over TCP on POSIX")
def test_two_processes_reach_the_one_process_weights(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([*_torchrun(), "--standalone", "--nproc_per_node=2",
                          str(ROOT / "demos" / "ddp.py"), "--steps", "6", "--batch", "16",
                          "--out", str(tmp_path)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "trained by 2 process(es) under DistributedDataParallel" in out.stdout
    m = re.search(r"largest difference (\S+) .*agree within 1e-06", out.stdout)
    assert m and float(m.group(1)) <= 1e-6, out.stdout
    assert "brought back with nn.from_torch: predicted" in out.stdout
    if shutil.which("dot"):
        assert (tmp_path / "ddp_prediction.svg").exists()
        assert "ddp_prediction.svg" in out.stdout
