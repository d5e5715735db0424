"""The lifecycle demos (digits, blurry digits, transfer), run as a user runs them, at a
smaller budget than their defaults."""

import http.client
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import nn

ROOT = Path(__file__).resolve().parents[2]
DEMOS = ROOT / "demos"


def run(name, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(DEMOS / name), *map(str, args)], check=False,
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _demo_module(name):
    spec = importlib.util.spec_from_file_location(name, DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _says_what_and_how_long(out, name):
    first = out.splitlines()[0]
    assert first.startswith(f"{name}: ") and re.search(r"about \d+ s|under a minute", first), first


@pytest.mark.parametrize("name", ["digits.py", "blurry_digits.py", "transfer.py"])
def test_help_describes_every_option_with_its_default(name, tmp_path):
    proc = run(name, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    options = proc.stdout.split("options:")[1]
    entries = re.split(r"\n  (?=-)", options)[1:]  # one entry per option
    assert len(entries) >= 8
    for entry in entries:
        flag = entry.split()[0]
        if flag in ("-h,", "--tune", "--quiet"):  # flags: nothing to default
            continue
        assert "(default:" in entry, f"{name} {flag}: {entry!r}"
        words = entry.split("(default:")[0].split()
        assert len(words) > 2, f"{name} {flag} has no description: {entry!r}"


# ---- digits ---------------------------------------------------------------------------

def test_digits_reaches_the_target_accuracy_and_saves_a_servable_model(tmp_path):
    pytest.importorskip("sklearn")
    model_file = tmp_path / "digits.npz"
    proc = run("digits.py", "--epochs", 30, "--patience", 8, "--plot", tmp_path / "c.svg",
               "--save", model_file, "--min-accuracy", 0.95, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "stratified split: 1258 train, 270 validation, 269 test" in out
    _says_what_and_how_long(out, "digits")
    m = re.search(r"^Test accuracy: (\d+\.\d+)% \((\d+)/269\)$", out, re.MULTILINE)
    assert m and float(m.group(1)) >= 97.0, out
    assert out.count("Test accuracy") == 1  # the test set is looked at once
    # per-class precision/recall and a 10x10 confusion matrix whose rows sum to the classes
    report = re.findall(r"^\s+(\d)\s+(\d\.\d{3})\s+(\d\.\d{3})\s+\d\.\d{3}\s+(\d+)$", out,
                        re.MULTILINE)
    assert [int(r[0]) for r in report] == list(range(10))
    cm = [list(map(int, line.split()[1:])) for line in
          out.split("columns: predicted digit):\n")[1].splitlines()[1:11]]
    cm = np.array(cm)
    assert cm.shape == (10, 10) and cm.sum() == 269
    assert np.trace(cm) == int(m.group(2))
    np.testing.assert_array_equal(cm.sum(axis=1), [int(r[3]) for r in report])
    # the curves: a table and (matplotlib being installed here) a picture
    assert "<- best" in out
    if importlib.util.find_spec("matplotlib"):
        assert "<svg" in (tmp_path / "c.svg").read_text()
    # Phase 7: the saved model answers over HTTP like the demo's model
    from nn import serve
    srv = serve.make_server(model_file, port=0, quiet=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        from sklearn.datasets import load_digits
        x = load_digits().data[:3]  # raw pixels 0-16: the model file scales them itself
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
        conn.request("POST", "/predict", body=json.dumps({"inputs": x.tolist()}),
                     headers={"Content-Type": "application/json"})
        body = json.loads(conn.getresponse().read())
        conn.close()
        assert body["classes"] == load_digits().target[:3].tolist()
        logits = nn.predict(nn.load(model_file), x)  # in process, on the same raw rows
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        np.testing.assert_allclose(body["probabilities"], p / p.sum(axis=1, keepdims=True),
                                   rtol=1e-12)
    finally:
        srv.shutdown()
        srv.server_close()


def test_digits_tuning_picks_on_validation_and_tests_only_the_winner(tmp_path):
    pytest.importorskip("sklearn")
    proc = run("digits.py", "--tune", "--tune-lrs", 0.01, 0.0001, "--tune-widths", 32,
               "--epochs", 8, "--patience", 4, "--plot", "", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = re.findall(r"^\s+(0\.01|0\.0001)\s+32\s+\d+\s+(\d\.\d{4})\s+(\d+\.\d\d)%",
                      proc.stdout, re.MULTILINE)
    assert len(rows) == 2
    best_lr = max(rows, key=lambda r: (float(r[2]), -float(r[1])))[0]
    assert f"winner: lr={best_lr}, hidden=32" in proc.stdout
    assert proc.stdout.count("Test accuracy") == 1


def test_digits_without_scikit_learn_says_what_to_install(tmp_path):
    code = ("import sys, runpy; sys.modules['sklearn'] = None; "
            "sys.modules['sklearn.datasets'] = None; sys.argv = ['digits.py']; "
            f"runpy.run_path({str(DEMOS / 'digits.py')!r}, run_name='__main__')")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "pip install" in proc.stderr


# ---- blurry digits ------------------------------------------------------------------------

def test_blurry_images_are_seeded_in_range_and_both_classes():
    demo = _demo_module("blurry_digits")
    X1, y1 = demo.make_images(50, np.random.default_rng(3))
    X2, y2 = demo.make_images(50, np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert X1.shape == (50, 16) and X1.min() >= 0.0 and X1.max() <= 1.0
    assert set(y1.tolist()) == {0, 1}
    # without noise a "1" has its ink in column 1 or 2 and a "0" a dark centre
    X, y = demo.make_images(40, np.random.default_rng(0), noise=0.0)
    imgs = X.reshape(-1, 4, 4)
    ones, zeros = imgs[y == 0], imgs[y == 1]
    assert np.all(ones[:, :, 1:3].sum(axis=(1, 2)) > ones[:, :, [0, 3]].sum(axis=(1, 2)))
    assert np.all(zeros[:, 1:3, 1:3].mean(axis=(1, 2)) < zeros[:, 0, :].mean(axis=1))
    model = demo.network(0)
    assert [(l.nin, l.nout) for l in model.layers] == [(16, 4), (4, 3), (3, 2)]


def test_blurry_digits_demo_shows_overfitting_and_the_remedies(tmp_path):
    proc = run("blurry_digits.py", "--epochs", 80, "--repeats", 1, "--plot",
               tmp_path / "b.svg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    _says_what_and_how_long(out, "blurry_digits")
    for name in ("plain", "augmentation", "dropout 0.2", "early stop (20)", "all three"):
        assert re.search(rf"^  {re.escape(name)}\s+\d+\s+\d\.\d{{4}}", out, re.MULTILINE), name
    assert "memorising, i.e. overfitting." in out
    assert re.search(r'P\("1"\) = \d+\.\d%', out)
    if importlib.util.find_spec("matplotlib"):
        assert "<svg" in (tmp_path / "b.svg").read_text()


# ---- transfer -------------------------------------------------------------------------------

def test_transfer_demo_compares_both_options_on_the_same_examples(tmp_path):
    pytest.importorskip("sklearn")
    proc = run("transfer.py", "--sizes", 50, "--repeats", 1, "--epochs", 40,
               "--pretrain-epochs", 15, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    m = re.search(r"^\s+50 \| +(\d+\.\d)%\s+\d+\.\d\ds\s+\d+ \| +(\d+\.\d)%\s+\d+\.\d\ds\s+\d+"
                  r" \| +(\d+\.\d)%", out, re.MULTILINE)
    assert m, out
    a, b, cached = map(float, m.groups())
    _says_what_and_how_long(out, "transfer")
    assert a > 50 and b > 50  # both learn well above chance (20%)
    assert b == cached  # caching the frozen layers' outputs changes nothing but time
    assert "Option B trains only the new last layer's 325" in out
    assert re.search(r"50 examples: (A|B) is more accurate|about equal", out)


def test_frozen_layers_do_not_move_in_option_b():
    """The mechanism the transfer demo relies on: freeze() keeps hidden weights fixed while
    fit trains the new last layer."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6)), rng.integers(0, 3, size=40)
    hidden = nn.Layer(6, 5, "relu", seed=0)
    model = nn.Sequential(hidden, nn.Layer(5, 3, "linear", seed=1))
    before = hidden.w.data.copy(), model.layers[1].w.data.copy()
    hidden.freeze()
    nn.fit(model, nn.cross_entropy, nn.Adam(model.parameters(), lr=0.05), (X, y), epochs=5,
           batch_size=8, verbose=False)
    np.testing.assert_array_equal(hidden.w.data, before[0])
    assert not np.array_equal(model.layers[1].w.data, before[1])
