"""Ctrl-C in the demos that train: a real SIGINT while training, then the demo says the run
was interrupted, keeps it out of its results, and exits with 130."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# demo, its arguments, a line printed while training (the signal goes after it), what must
# not appear for an interrupted run
CASES = {
    "digits_cnn": (["--seeds", "0", "1", "--verbose", "2", "--no-mlp", "--epochs", "40"],
                   "Epoch 2:", "median test accuracy"),
    "digits": (["--epochs", "200", "--patience", "200", "--plot", ""], "Epoch 3:",
               "Test accuracy"),
    "transfer": (["--sizes", "25", "50", "--repeats", "2", "--pretrain-epochs", "5"],
                 "Medians over", "examples: "),
    "mnist1d": (["--best", "--steps", "3000", "--batch", "32"], "step 300:",
                "Best model here"),
}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_ctrl_c_is_reported_and_not_counted(name, tmp_path):
    if name in ("digits", "digits_cnn", "transfer"):
        pytest.importorskip("sklearn")
    else:
        pytest.importorskip("mnist1d")
    args, marker, absent = CASES[name]
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(ROOT / "demos" / f"{name}.py"), *args],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith(marker) or line.strip().startswith(marker):
                break
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    out = "".join(seen) + rest
    assert proc.returncode == 130, out + err
    assert "nterrupted" in out, out
    assert absent not in out, out
    assert "Traceback" not in err, err


# ---- every demo's --help: each option with its default, and how long it takes ------------

DEMOS = sorted(p.stem for p in (ROOT / "demos").glob("*.py") if p.stem != "document")


@pytest.mark.parametrize("name", DEMOS)
def test_help_lists_every_option_with_its_default_and_a_time(name, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100")
    out = subprocess.run([sys.executable, str(ROOT / "demos" / f"{name}.py"), "--help"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Time:" in text, f"{name} --help gives no time estimate"
    body = text.split("options:")[1].split("Time:")[0]
    entries = re.split(r"\n  (?=-)", body)[1:]
    assert entries
    for entry in entries:
        head = entry.split("  ")[0].strip()
        flag = head.split()[0].rstrip(",")
        takes_value = len(head.split()) > 1 and not head.startswith("-h")
        if not takes_value:
            continue  # a flag: nothing to default
        words = " ".join(entry.split())
        assert "default" in words, f"{name} {flag}: no default in {words!r}"
        assert len(words.split("default")[0].split()) > 2, f"{name} {flag}: no description"
