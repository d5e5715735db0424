"""nn.fit and History: the training loop, early stopping, progress, interruption, plots."""

import io
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import nn


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    return centres[y] + 0.5 * rng.normal(size=(n, 2)), y


def _model(seed=0, hidden=16):
    return nn.MLP(2, [hidden, 3], activation="tanh", seed=seed)


def test_fit_learns_and_records_one_entry_per_epoch():
    X, y = _blobs()
    (tr, va, _) = nn.data.split(X, y, seed=0)
    model = _model()
    h = nn.fit(model, nn.cross_entropy, nn.Adam(model.parameters(), lr=0.05), tr, va,
               epochs=15, batch_size=16, verbose=False, metrics=["accuracy"], seed=0)
    assert isinstance(h, nn.History) and len(h) == 15 and h.epochs == list(range(1, 16))
    for key in ("train_loss", "val_loss", "accuracy", "train_accuracy"):
        assert len(h.history[key]) == 15, key
    assert h.history["train_loss"][-1] < 0.5 * h.history["train_loss"][0]
    assert h.history["val_loss"][-1] < 0.5 * h.history["val_loss"][0]
    assert h["accuracy"][-1] > 0.9
    assert h.stop_reason == "completed" and not h.restored
    # the recorded validation numbers are those of the final weights
    out = nn.predict(model, va[0])
    assert h["accuracy"][-1] == pytest.approx(nn.metrics.accuracy(va[1], out.argmax(axis=1)))
    assert h["val_loss"][-1] == pytest.approx(nn.cross_entropy(out, va[1]).item())


def test_train_loss_is_the_mean_over_the_epochs_batches():
    X, y = _blobs(50)
    model = _model()
    seen = []

    def loss_fn(out, target):
        loss = nn.cross_entropy(out, target)
        seen.append((loss.item(), len(target)))
        return loss

    h = nn.fit(model, loss_fn, nn.SGD(model.parameters(), lr=0.0), (X, y), epochs=1,
               batch_size=16, verbose=False)
    assert [n for _, n in seen] == [16, 16, 16, 2]  # the last partial batch is kept
    expect = sum(v * n for v, n in seen) / 50
    assert h["train_loss"][0] == pytest.approx(expect)


def test_gradients_do_not_leak_between_steps():
    """With lr=0 the weights never change, so every full-batch step must see the same
    gradient; accumulated gradients would grow 1x, 2x, 3x..."""
    X, y = _blobs(40)
    model = _model()
    grads = []

    class Spy(nn.SGD):
        def step(self):
            grads.append([np.array(p.grad) for p in self.params])
            super().step()

    nn.fit(model, nn.cross_entropy, Spy(model.parameters(), lr=0.0), (X, y), epochs=4,
           batch_size=40, verbose=False)
    assert len(grads) == 4
    assert np.abs(grads[0][0]).max() > 0
    for later in grads[1:]:
        for a, b in zip(grads[0], later):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


def test_same_seed_same_history():
    X, y = _blobs()
    runs = []
    for _ in range(2):
        model = _model(seed=3)
        runs.append(nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1),
                           (X, y), epochs=3, batch_size=8, seed=5, verbose=False).history)
    assert runs[0] == runs[1]


def _overfit_problem():
    """Eight noisy points of y = x, a wide network and Adam: it memorises the noise."""
    rng = np.random.default_rng(0)
    Xtr = rng.uniform(-1, 1, size=(8, 1))
    ytr = Xtr + 0.3 * rng.normal(size=(8, 1))
    Xva = np.linspace(-1, 1, 101).reshape(-1, 1)
    yva = Xva.copy()
    model = nn.MLP(1, [64, 64, 1], activation="relu", seed=1)
    opt = nn.Adam(model.parameters(), lr=0.01)
    return model, opt, (Xtr, ytr), (Xva, yva)


def test_early_stopping_restores_the_best_weights():
    model, opt, tr, va = _overfit_problem()
    h = nn.fit(model, nn.mse_loss, opt, tr, va, epochs=400, batch_size=8, patience=10,
               verbose=False)
    vl = h["val_loss"]
    assert h.stop_reason == "early stopping"
    assert len(h) < 400
    best = int(np.argmin(vl)) + 1
    assert h.best_epoch == best and len(h) == best + 10
    assert vl[-1] > vl[best - 1]  # it really overfitted after the best epoch
    assert h["train_loss"][-1] < h["train_loss"][best - 1]  # while training loss still fell
    assert h.restored
    now = nn.mse_loss(nn.predict(model, va[0]), va[1]).item()
    assert now == pytest.approx(vl[best - 1], rel=1e-12)


def test_without_patience_the_final_weights_stay_unless_asked():
    model, opt, tr, va = _overfit_problem()
    h = nn.fit(model, nn.mse_loss, opt, tr, va, epochs=60, batch_size=8, verbose=False)
    now = nn.mse_loss(nn.predict(model, va[0]), va[1]).item()
    assert len(h) == 60 and not h.restored
    assert now == pytest.approx(h["val_loss"][-1], rel=1e-12)
    model, opt, tr, va = _overfit_problem()
    h = nn.fit(model, nn.mse_loss, opt, tr, va, epochs=60, batch_size=8, verbose=False,
               restore_best=True)
    now = nn.mse_loss(nn.predict(model, va[0]), va[1]).item()
    assert h.restored and now == pytest.approx(min(h["val_loss"]), rel=1e-12)


def test_ctrl_c_stops_cleanly_and_keeps_the_best_weights():
    model, opt, tr, va = _overfit_problem()
    calls = {"n": 0}

    def augment(xb, rng):  # the 41st batch (epoch 41) is "interrupted by the user"
        calls["n"] += 1
        if calls["n"] == 41:
            raise KeyboardInterrupt
        return xb

    out = io.StringIO()
    h = nn.fit(model, nn.mse_loss, opt, tr, va, epochs=400, batch_size=8, augment=augment,
               file=out)
    assert h.stop_reason == "interrupted" and len(h) == 40 and h.restored
    now = nn.mse_loss(nn.predict(model, va[0]), va[1]).item()
    assert now == pytest.approx(min(h["val_loss"]), rel=1e-12)
    assert "Interrupted after 40 finished epochs" in out.getvalue()
    assert model.training  # its mode is what it was before fit


def test_progress_lines_when_not_a_terminal():
    X, y = _blobs(60)
    (tr, va, _) = nn.data.split(X, y, seed=0)
    model = _model()
    out = io.StringIO()
    nn.fit(model, nn.cross_entropy, nn.Adam(model.parameters(), lr=0.01), tr, va, epochs=3,
           batch_size=10, metrics=["accuracy"], file=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    pat = (r"^Epoch (\d+): train loss \d+\.\d{3}, val loss \d+\.\d{3}, "
           r"val accuracy \d\.\d{3} \(5 batches, \d+\.\d\ds\)$")
    for i, line in enumerate(lines, 1):
        m = re.match(pat, line)
        assert m and int(m.group(1)) == i, line


def test_progress_updates_in_place_on_a_terminal_and_is_silent_when_asked():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    X, y = _blobs(60)
    model = _model()
    out = Tty()
    nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
           batch_size=10, file=out)
    text = out.getvalue()
    assert text.count("\n") == 2  # one finished line per epoch
    assert "\rEpoch 1/2: batch 6/6" in text and "\rEpoch 1: train loss" in text
    quiet = Tty()
    nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
           batch_size=10, verbose=False, file=quiet)
    assert quiet.getvalue() == ""
    plain = Tty()
    nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
           batch_size=10, verbose=2, file=plain)
    assert "\r" not in plain.getvalue() and len(plain.getvalue().splitlines()) == 2


def test_augment_sees_every_training_batch_with_a_generator():
    X, y = _blobs(30)
    model = _model()
    got = []

    def augment(xb, rng):
        assert isinstance(rng, np.random.Generator)
        got.append(len(xb))
        return xb + rng.normal(0, 0.01, size=xb.shape)

    nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
           batch_size=8, augment=augment, verbose=False)
    assert got == [8, 8, 8, 6] * 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point here
def test_non_finite_loss_stops_training():
    X, y = _blobs(40)
    model = nn.MLP(2, [16, 1], activation="relu", seed=0)
    out = io.StringIO()
    h = nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=1e6), (X, y[:, None] * 1e3),
               epochs=50, batch_size=40, file=out)
    assert h.stop_reason == "non-finite loss" and len(h) < 50
    assert "smaller learning rate" in out.getvalue()


def test_bad_arguments_are_refused_with_a_reason():
    X, y = _blobs(20)
    model = _model()
    opt = nn.SGD(model.parameters())
    with pytest.raises(ValueError, match="val"):
        nn.fit(model, nn.cross_entropy, opt, (X, y), patience=3)
    with pytest.raises(ValueError, match="same number of rows"):
        nn.fit(model, nn.cross_entropy, opt, (X, y[:-1]))
    with pytest.raises(TypeError, match=r"\(X, y\) pair"):
        nn.fit(model, nn.cross_entropy, opt, X)
    with pytest.raises(ValueError, match="unknown metric"):
        nn.fit(model, nn.cross_entropy, opt, (X, y), metrics=["acc"])
    with pytest.raises(TypeError, match="optimizer"):
        nn.fit(model, nn.cross_entropy, object(), (X, y))
    with pytest.raises(ValueError, match="batch_size"):
        nn.fit(model, nn.cross_entropy, opt, (X, y), batch_size=0)


def test_binary_metrics_with_one_sigmoid_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] > 0).astype(float)
    model = nn.Sequential(nn.Layer(2, 1, "sigmoid", seed=0))
    h = nn.fit(model, lambda out, t: nn.binary_cross_entropy(out.reshape(-1), t),
               nn.SGD(model.parameters(), lr=1.0), (X, y), (X, y), epochs=30, batch_size=80,
               metrics=["accuracy", "precision", "recall", "f1"], verbose=False)
    pred = (nn.predict(model, X)[:, 0] > 0.5).astype(int)
    assert h["accuracy"][-1] == pytest.approx(nn.metrics.accuracy(y, pred)) and \
        h["accuracy"][-1] > 0.9
    assert h["f1"][-1] == pytest.approx(nn.metrics.f1(y.astype(int), pred))


def test_history_plot_writes_an_svg(tmp_path):
    pytest.importorskip("matplotlib")
    model, opt, tr, va = _overfit_problem()
    h = nn.fit(model, nn.mse_loss, opt, tr, va, epochs=5, batch_size=8, verbose=False)
    path = h.plot(tmp_path / "curves.svg")
    text = (tmp_path / "curves.svg").read_text()
    assert str(path).endswith("curves.svg") and "<svg" in text
    assert "validation loss" in text or "validation" in text


def test_history_plot_without_matplotlib_says_what_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    h = nn.History()
    with pytest.raises(ImportError, match="pip install matplotlib"):
        h.plot("x.svg")


SIGINT_SCRIPT = """
import numpy as np
import nn
rng = np.random.default_rng(0)
X = rng.normal(size=(1200, 20))
y = (X[:, 0] + 0.5 * rng.normal(size=1200) > 0).astype(int)
model = nn.MLP(20, [64, 2], seed=0)
h = nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.05), (X[:1000], y[:1000]),
           (X[1000:], y[1000:]), epochs=100000, batch_size=4, verbose=2)
now = nn.evaluate(model, nn.cross_entropy, X[1000:], y[1000:])["loss"]
print("RESULT", h.stop_reason, len(h), len(h["val_loss"]), repr(min(h["val_loss"])), repr(now))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_real_ctrl_c_stops_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=root))
    try:
        for line in proc.stdout:
            if line.startswith("Epoch 2:"):
                break
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Interrupted after" in rest and "keeping the best weights" in rest
    result = next(ln for ln in rest.splitlines() if ln.startswith("RESULT")).split()
    assert result[1] == "interrupted" and int(result[2]) >= 2 and result[2] == result[3]
    assert float(result[5]) == pytest.approx(float(result[4]), rel=1e-12)


def test_fit_puts_the_ctrl_c_handler_back():
    import signal
    before = signal.getsignal(signal.SIGINT)
    X, y = _blobs(20)
    model = _model()
    nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
           verbose=False)
    assert signal.getsignal(signal.SIGINT) is before


def test_history_plot_labels_validation_metrics_and_keeps_colours():
    pytest.importorskip("matplotlib")
    X, y = _blobs(60, seed=0)
    model = nn.MLP(2, [4, 3], seed=0)
    h = nn.fit(model, nn.cross_entropy, nn.SGD(model.parameters(), lr=0.1), (X, y),
               val=(X, y), epochs=3, metrics=["accuracy", "f1"], verbose=False)
    loss_ax, metric_ax = h.plot().axes
    colour = {ln.get_label(): ln.get_color() for ax in (loss_ax, metric_ax)
              for ln in ax.get_lines()}
    assert {"validation accuracy", "training accuracy", "validation f1",
            "training f1"} <= set(colour)
    assert colour["validation accuracy"] == colour["validation f1"] == \
        colour["validation loss"] != colour["training loss"] == colour["training accuracy"]
    assert "validation" in metric_ax.get_title()


# ---- four models training at once, in threads (issue 22: what held, kept) -----------------
def _four_models():
    rng = np.random.default_rng(0)
    return [
        (nn.MLP(4, [8, 3], seed=1), rng.standard_normal((16, 4)), rng.integers(0, 3, 16)),
        (nn.Sequential(nn.Conv1d(2, 3, 3, seed=2), nn.ReLU(), nn.Flatten(),
                       nn.Linear(3 * 6, 3, seed=3)),
         rng.standard_normal((16, 2, 8)), rng.integers(0, 3, 16)),
        (nn.Sequential(nn.LSTM(3, 5, seed=4), nn.LastStep(), nn.Linear(5, 3, seed=5)),
         rng.standard_normal((16, 6, 3)), rng.integers(0, 3, 16)),
        (nn.Sequential(nn.LayerNorm(4), nn.MultiheadAttention(4, 2, seed=6), nn.Flatten(),
                       nn.Linear(4 * 5, 3, seed=7)),
         rng.standard_normal((16, 5, 4)), rng.integers(0, 3, 16)),
    ]


def _train(model, X, y, steps=15):
    """Adam steps; every step's gradients, copied."""
    opt = nn.Adam(model.parameters(), lr=0.01)
    grads = []
    for _ in range(steps):
        opt.zero_grad()
        nn.cross_entropy(model(X), y).backward()
        grads.append([np.array(p.grad, copy=True) for p in model.parameters()])
        opt.step()
    return grads


def test_four_models_training_in_threads_get_bit_identical_gradients():
    alone = [_train(*case) for case in _four_models()]
    together = [None] * 4

    def run(i, case):
        together[i] = _train(*case)

    threads = [threading.Thread(target=run, args=(i, case))
               for i, case in enumerate(_four_models())]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    for a, b in zip(alone, together):
        assert len(a) == len(b) == 15
        for step_a, step_b in zip(a, b):
            for ga, gb in zip(step_a, step_b):
                np.testing.assert_array_equal(ga, gb)
