"""nn.Monitor, the training doctor: it names the problem on networks built to have it and
stays silent on a healthy one."""

import numpy as np
import pytest

import nn
from autograd import Value


def _digits(n=256, seed=0):
    """A small real classification task: scikit-learn's bundled digits (no download)."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))[:n]
    return X[idx] / 16.0, y[idx]


def _train(model, X, y, steps, lr, monitor):
    opt = nn.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.cross_entropy(model(X), y)
        loss.backward()
        monitor.after_backward(loss)
        opt.step()
        monitor.after_step()
    return loss


def test_a_healthy_network_gets_no_warning():
    X, y = _digits()
    model = nn.MLP(64, [32, 10], activation="relu", seed=0)
    monitor = nn.Monitor(model)
    loss = _train(model, X, y, steps=20, lr=0.1, monitor=monitor)
    assert loss.item() < 2.0
    assert monitor.warnings == []
    assert "no warnings" in monitor.report()


def test_relu_units_with_a_large_negative_bias_are_reported_dead():
    X, y = _digits()
    model = nn.MLP(64, [32, 10], activation="relu", seed=0)
    model.layers[0].b.data[:] = -50.0
    monitor = nn.Monitor(model)
    _train(model, X, y, steps=2, lr=0.1, monitor=monitor)
    dead = [w for w in monitor.warnings if "dead" in w]
    assert dead and "layers.0" in dead[0] and "100%" in dead[0]
    assert monitor.layers["layers.0"].dead[-1] == 1.0


def test_tanh_with_huge_weights_is_reported_saturated_at_init():
    X, _ = _digits()
    model = nn.MLP(64, [32, 10], activation="tanh", seed=0)
    model.layers[0].w.data *= 100.0
    monitor = nn.Monitor(model)
    model(X)
    saturated = [w for w in monitor.warnings if "saturated" in w]
    assert saturated and "layers.0" in saturated[0] and "at init" in saturated[0]
    assert "Kaiming/Xavier" in saturated[0]
    assert monitor.layers["layers.0"].saturated[-1] > 0.5


def test_a_deep_sigmoid_chain_is_reported_as_vanishing():
    X, y = _digits()
    model = nn.MLP(64, [16] * 20 + [10], activation="sigmoid", seed=0)
    monitor = nn.Monitor(model)
    _train(model, X, y, steps=1, lr=0.1, monitor=monitor)
    vanishing = [w for w in monitor.warnings if "vanishing" in w]
    assert vanishing and "layers.0.w" in vanishing[0]


def test_a_nan_loss_is_reported_with_the_step():
    X, y = _digits()
    model = nn.MLP(64, [16, 10], seed=0)
    monitor = nn.Monitor(model)
    model.layers[1].w.data[0, 0] = np.nan
    _train(model, X, y, steps=1, lr=0.1, monitor=monitor)
    text = " ".join(monitor.warnings)
    assert "loss became nan at step 0" in text and "detect_anomaly" in text
    assert "NaN or infinite outputs" in text


def test_a_learning_rate_far_too_large_or_small_shows_in_the_update_ratio():
    X, y = _digits()
    for lr, word in ((1e-6, "too small"), (30.0, "too large")):
        model = nn.MLP(64, [32, 10], activation="tanh", seed=0)
        monitor = nn.Monitor(model)
        _train(model, X, y, steps=3, lr=lr, monitor=monitor)
        assert any(word in w for w in monitor.warnings), (lr, monitor.warnings)


def test_the_ratios_are_the_documented_statistics():
    X, y = _digits(64)
    model = nn.MLP(64, [8, 10], seed=1)
    monitor = nn.Monitor(model)
    w = model.layers[0].w
    before = w.data.copy()
    _train(model, X, y, steps=1, lr=0.5, monitor=monitor)
    stats = monitor.params["layers.0.w"]
    assert stats.grad_to_data[0] == pytest.approx(np.std(w.grad) / np.std(before), rel=1e-9)
    assert stats.update_to_data[0] == pytest.approx(
        np.std(w.data - before) / np.std(w.data), rel=1e-9)


def test_remove_takes_the_hooks_off():
    model = nn.MLP(4, [3, 2], seed=0)
    monitor = nn.Monitor(model)
    model(np.ones((2, 4)))
    monitor.remove()
    model(np.ones((2, 4)))
    assert len(monitor.layers["layers.0"].mean) == 1


def test_report_plot_and_page(tmp_path):
    X, y = _digits(64)
    model = nn.MLP(64, [8, 10], activation="tanh", seed=0)
    monitor = nn.Monitor(model)
    _train(model, X, y, steps=3, lr=0.1, monitor=monitor)
    text = monitor.report()
    assert "layers.0" in text and "grad/data" in text
    page = tmp_path / "doctor.html"
    monitor.save_html(page, title="<script>alert(1)</script>")
    html = page.read_text()
    assert "<script" not in html and "&lt;script&gt;" in html
    assert html.count("<svg") >= 4 and "1e-3" in html
    pytest.importorskip("matplotlib")
    out = monitor.plot(tmp_path / "doctor.png")
    assert (tmp_path / "doctor.png").stat().st_size > 1000 and out.endswith("doctor.png")


def test_refuses_a_non_module():
    with pytest.raises(TypeError, match="needs an nn.Module"):
        nn.Monitor(Value(1.0))


def test_forward_hooks_see_the_output_and_can_replace_it():
    layer = nn.Linear(2, 2, seed=0)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append(out) or out * 2.0)
    x = np.ones((1, 2))
    doubled = layer(x)
    handle.remove()
    plain = layer(x)
    assert seen and np.allclose(doubled.data, 2 * plain.data)
