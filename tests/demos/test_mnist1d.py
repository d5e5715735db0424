"""The MNIST-1D reproduction, run as a user runs it, for a few steps (a smoke test: the full
recipe's numbers are in the README)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_few_steps_print_the_table_beside_pytorch(tmp_path):
    pytest.importorskip("mnist1d")
    pytest.importorskip("torch")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "demos" / "mnist1d.py"), "--seeds", "2", "--steps", "3",
         "--models", "logreg,mlp,gru", "--max-gap", "100"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
        text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "4000 training and 1000 test sequences of length 40" in out
    for name in ("logistic regression", "MLP (residual)", "GRU (bidirectional, hidden 6)"):
        line = next(row for row in out.splitlines() if row.startswith(name))
        assert len(line.split()) >= 6  # paper, ours, PyTorch, gap, times
    assert "gru seed 1: ours" in out


def test_the_best_model_trains_for_a_few_steps(tmp_path):
    pytest.importorskip("mnist1d")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "demos" / "mnist1d.py"), "--best", "--steps", "2"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
        text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Best model here: WideCNN" in proc.stdout and "test accuracy" in proc.stdout


def test_the_data_is_generated_without_the_network(monkeypatch):
    data = pytest.importorskip("mnist1d.data")
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("make_dataset tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    d = data.make_dataset(data.get_dataset_args())
    assert d["x"].shape == (4000, 40) and d["x_test"].shape == (1000, 40)


def test_unknown_models_are_refused():
    proc = subprocess.run([sys.executable, str(ROOT / "demos" / "mnist1d.py"), "--models", "rnn"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 2 and "unknown model(s) ['rnn']" in proc.stderr
