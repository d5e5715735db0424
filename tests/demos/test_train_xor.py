"""The XOR demo, run as a user runs it: a subprocess with its own arguments."""

import os
import re
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demos" / "train_xor.py"


def run(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(DEMO.parents[1]))
    return subprocess.run([sys.executable, str(DEMO), *args], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_trains_xor_to_full_accuracy_and_draws_the_graph(tmp_path):
    out = tmp_path / "graph.svg"
    proc = run("--seed", "0", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    progress = re.findall(r"^Epoch \d+: loss (\d+\.\d+)$", proc.stdout, re.MULTILINE)
    losses = [float(v) for v in progress]
    assert len(losses) >= 5
    assert losses[-1] < 0.05 and losses[-1] < losses[0]
    rows = re.findall(r"^  (\d) XOR (\d) -> (\d) .* ok$", proc.stdout, re.MULTILINE)
    assert [(int(a) ^ int(b), int(c)) for a, b, c in rows] == [(0, 0), (1, 1), (1, 1), (0, 0)]
    assert "Accuracy: 100%" in proc.stdout
    assert re.match(r"train_xor: .* about \d+ s\n", proc.stdout)  # what it does, how long
    svg = out.read_text()
    assert "<svg" in svg and "loss" in svg and "layers.0.w" in svg
    assert not (tmp_path / "xor_graph.svg").exists()  # --out was honoured


def test_default_output_name_and_other_seed(tmp_path):
    proc = run("--seed", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "xor_graph.svg").read_text().lstrip().startswith("<?xml")


def test_exits_nonzero_when_training_fails(tmp_path):
    proc = run("--epochs", "1", "--out", str(tmp_path / "g.svg"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Training failed" in proc.stderr
    assert "WRONG" in proc.stdout


def test_an_unwritable_output_path_fails_before_training(tmp_path):
    (tmp_path / "a_file").write_text("x")
    for option, path in (("--html", "no/dir/x.html"), ("--out", "no/dir/g.svg"),
                         ("--html", "a_file/x.html"), ("--html", ".")):
        proc = run(option, path, "--epochs", "100000", cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"error: {option}: cannot write" in proc.stderr and "Traceback" not in proc.stderr
        assert "Accuracy" not in proc.stdout and "MLP" not in proc.stdout  # nothing trained
