"""nn.Replay and `demos/train_xor.py --html`: the training replay page, in chromium too."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn

DEMO = Path(__file__).resolve().parents[2] / "demos" / "train_xor.py"
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0, 1, 1, 0])


def page_data(path):
    text = Path(path).read_text()
    return json.loads(text.split('type="application/json">', 1)[1].split("</script>", 1)[0])


@pytest.fixture(scope="module")
def xor_page(tmp_path_factory):
    """The demo run as a user runs it, with a short training."""
    tmp = tmp_path_factory.mktemp("xor")
    env = dict(os.environ, PYTHONPATH=str(DEMO.parents[1]))
    proc = subprocess.run([sys.executable, str(DEMO), "--epochs", "300", "--html", "xor.html",
                           "--out", "g.svg"], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    written = f"Training replay written to {(tmp / 'xor.html').resolve()}"
    assert written in proc.stdout, proc.stdout + proc.stderr
    return tmp / "xor.html", proc.stdout


def test_the_demo_records_about_a_hundred_epochs_from_one_seed(xor_page):
    path, stdout = xor_page
    data = page_data(path)
    assert data["epochs"][0] == 1 and data["epochs"][-1] == 300
    assert 90 <= len(data["frames"]) <= 110
    assert all(len(f) == 40 * 40 and 0 <= min(f) and max(f) <= 255 for f in data["frames"])
    assert data["losses"][-1] < data["losses"][0]
    printed = {int(e): float(v) for e, v in re.findall(r"^Epoch (\d+): loss ([\d.]+)$", stdout,
                                                       re.MULTILINE)}
    assert set(printed) <= set(data["epochs"]) and len(printed) >= 3
    for e, v in printed.items():
        assert data["losses"][data["epochs"].index(e)] == pytest.approx(v, abs=5e-5)


def test_frames_are_the_models_own_probabilities():
    model = nn.MLP(2, [4, 2], activation="tanh", seed=1)
    replay = nn.Replay(X, Y, grid=5, pad=0.0)
    replay.record(model, 1, 0.5)
    expected = replay.probabilities(model, replay.points)
    np.testing.assert_allclose(np.array(replay.frames[0]) / 255, expected, atol=0.5 / 255 + 1e-12)
    z = model(replay.points).data
    p = np.exp(z[:, 1]) / np.exp(z).sum(axis=1)
    np.testing.assert_allclose(expected, p, rtol=1e-12)
    assert replay.points[0].tolist() == [0.0, 1.0]   # the top-left cell first
    assert replay.accuracy[0] == np.mean((model(X).data.argmax(axis=1)) == Y)


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"X must be \(N, 2\)"):
        nn.Replay(np.zeros((4, 3)), Y)
    with pytest.raises(ValueError, match="one label per row"):
        nn.Replay(X, Y[:3])
    with pytest.raises(ValueError, match="grid must be an int"):
        nn.Replay(X, Y, grid=1)
    with pytest.raises(ValueError, match="nothing recorded"):
        nn.Replay(X, Y).save_html(tmp_path / "r.html")


def test_the_slider_scrubs_through_training(xor_page, page):
    path, _ = xor_page
    data = page_data(path)
    page.page.goto(path.as_uri())
    last = len(data["frames"]) - 1
    pixels = {}
    for k in (0, last // 2, last):
        page.page.locator("#epoch").fill(str(k))
        assert page.page.get_attribute("body", "data-frame") == str(k)
        label = page.page.inner_text("#label")
        assert label.startswith(f"epoch {data['epochs'][k]}: loss {data['losses'][k]:.4f}")
        assert f"accuracy {round(data['accuracy'][k] * 100)}%" in label
        # the colour of the top-left cell is the recorded P(class 1) of that cell
        rgb = page.page.evaluate(
            "() => Array.from(document.getElementById('boundary').getContext('2d')"
            ".getImageData(2, 2, 1, 1).data.slice(0, 3))")
        pixels[k] = rgb
        q = data["frames"][k][0] / 255
        assert (rgb[2] > rgb[0]) == (q < 0.5) or abs(q - 0.5) < 0.02
    assert pixels[0] != pixels[last]  # the boundary moved
    page.page.locator("#epoch").fill(str(last - 5))
    page.page.click("#play")  # plays on from there to the last frame
    # polled from Python: the page's CSP forbids the eval that wait_for_function(str) uses
    import time
    deadline = time.monotonic() + 30
    while page.page.get_attribute("body", "data-frame") != str(last):
        assert time.monotonic() < deadline, "the replay never reached the last frame"
        page.page.wait_for_timeout(50)
    assert page.errors == [] and page.requests == [path.as_uri()]


# ---- diverged training, empty input, long runs, hostile titles (issue 22) ------------------
class _Const:
    """A "model" answering the same logits for every row."""

    def __init__(self, value):
        self.value = value

    def __call__(self, x):
        from autograd import Value
        return Value(np.full((len(x.data), 2), self.value))


def test_a_diverged_model_or_loss_is_refused_at_record_naming_the_epoch(tmp_path):
    replay = nn.Replay(X, Y, grid=4)
    replay.record(_Const(0.0), 1, 0.7)
    with pytest.raises(ValueError, match="outputs at epoch 7 are not finite"):
        replay.record(_Const(np.nan), 7, 0.5)
    for loss in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=r"loss at epoch 8 is (nan|inf|-inf)"):
            replay.record(_Const(0.0), 8, loss)
    assert replay.epochs == [1]  # nothing half-recorded
    replay.save_html(tmp_path / "r.html")  # and the page still saves
    assert page_data(tmp_path / "r.html")["frames"][0][0] == 128


def test_no_points_is_refused_at_once():
    with pytest.raises(ValueError, match="at least one training point"):
        nn.Replay(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="finite"):
        nn.Replay(np.array([[0.0, np.inf]]), np.array([1]))


def test_a_page_of_150000_epochs_draws(tmp_path, page):
    replay = nn.Replay(X, Y, grid=2)
    replay.record(_Const(0.0), 0, 1.0)
    n = 150_000  # recorded as record() would, without 150,000 model calls in a test
    replay.epochs = list(range(n))
    replay.losses = [1.0 / (e + 1) for e in range(n)]
    replay.frames = replay.frames * n
    replay.accuracy = replay.accuracy * n
    path = replay.save_html(tmp_path / "long.html")
    page.page.goto(path.as_uri())
    page.page.locator("#epoch").fill(str(n - 1))
    assert page.page.get_attribute("body", "data-frame") == str(n - 1)
    assert page.errors == []


@pytest.mark.parametrize("title", ["__DATA__<img src=x onerror=\"window.injected=1\">",
                                   "<!--<script>", "</script><script>window.injected=2</script>"])
def test_a_title_can_run_no_script(tmp_path, page, title):
    dialogs = []
    page.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    replay = nn.Replay(X, Y, grid=4)
    replay.record(_Const(0.0), 1, 0.5)
    replay.record(_Const(1.0), 2, 0.25)
    path = replay.save_html(tmp_path / "t.html", title=title)
    page.page.goto(path.as_uri())
    assert page.page.inner_text("h1") == title and page.page.title() == title
    page.page.locator("#epoch").fill("1")  # the page's own script runs
    assert page.page.inner_text("#label").startswith("epoch 2")
    assert page.page.evaluate("window.injected") is None and dialogs == []
    assert page.errors == []
