"""The hand-written numpy twins of benchmarks/twins.py compute what PyTorch computes: the
loss and every gradient of one step (float32), and the weights after the update."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import twins

import nn


def close(ours: np.ndarray, theirs: object, what: str, rtol: float = 2e-4) -> None:
    """float32 agreement: relative to the array's scale (sums of many float32 terms)."""
    t = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == t.shape, what
    scale = max(float(np.abs(t).max()), 1e-6)
    assert float(np.abs(ours - t).max()) <= rtol * scale, (what, np.abs(ours - t).max(), scale)


def test_cnn_twin_matches_torch() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (16, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 10, 16)
    t = torch.nn
    model = t.Sequential(t.Conv2d(1, 16, 3, 1, 1), t.BatchNorm2d(16), t.ReLU(), t.MaxPool2d(2),
                         t.Conv2d(16, 32, 3, 1, 1), t.BatchNorm2d(32), t.ReLU(), t.MaxPool2d(2),
                         t.Flatten(), t.Linear(128, 10))
    with torch.no_grad():  # non-trivial γ, β
        for m in model:
            if isinstance(m, t.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    params = [p.detach().numpy().copy() for p in model.parameters()]
    twin = twins.DigitsCNN(params, lr=0.1)
    loss = twin.step(x, labels)
    tl = t.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(labels))
    tl.backward()
    assert abs(loss - tl.item()) < 1e-5
    for i, (g, p) in enumerate(zip(twin.grads, model.parameters())):
        if i in (1, 5):  # a conv bias before batch norm: its gradient is exactly 0
            assert np.abs(g).max() < 1e-5 and float(p.grad.abs().max()) < 1e-5
        else:
            close(g, p.grad, f"gradient {i}")
        close(twin.params[i], p.detach().numpy() - 0.1 * p.grad.numpy(), f"update {i}")
    for (rm, rv), bn in zip(twin.running, (model[1], model[5])):
        close(rm, bn.running_mean, "running mean")
        close(rv, bn.running_var, "running var")


def test_attention_twin_matches_torch() -> None:
    rng = np.random.default_rng(1)
    n, t, e, heads = 3, 10, 16, 4
    x = rng.standard_normal((n, t, e)).astype(np.float32)
    g = rng.standard_normal((n, t, e)).astype(np.float32)
    m = torch.nn.MultiheadAttention(e, heads, batch_first=True)
    with torch.no_grad():
        m.in_proj_bias.uniform_(-0.1, 0.1)
        m.out_proj.bias.uniform_(-0.1, 0.1)
    params = [m.in_proj_weight, m.in_proj_bias, m.out_proj.weight, m.out_proj.bias]
    step = twins.attention_step(x, g, [p.detach().numpy() for p in params], heads)
    check = step()
    xt = torch.from_numpy(x).requires_grad_(True)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(t)
    out, _ = m(xt, xt, xt, attn_mask=mask, is_causal=True, need_weights=False)
    out.backward(torch.from_numpy(g))
    dx, *grads = step.grads
    close(dx, xt.grad, "dx")
    for name, ours, p in zip(("w_in", "b_in", "w_out", "b_out"), grads, params):
        close(ours, p.grad, name)
    assert check == pytest.approx(float(m.in_proj_weight.grad[0, 0]), rel=1e-3, abs=1e-6)


def test_gelu_twin_is_torch_gelu_and_its_derivative() -> None:
    h = np.linspace(-10, 10, 4001, dtype=np.float32)
    out, slope = twins.gelu(h)
    ht = torch.from_numpy(h).requires_grad_(True)
    y = torch.nn.functional.gelu(ht)
    y.sum().backward()
    assert out.dtype == slope.dtype == np.float32
    # torch's float32 GELU is itself off the exact value: x (1 + erf(x/√2)) / 2 cancels for
    # x ≪ 0 (at -3.06 it is 2.6e-7 away from -0.00338645, ours 2e-9), and its derivative at
    # 0.29 is 4 ulp away. tests/autograd/test_erf.py measures ours against float64.
    np.testing.assert_allclose(out, y.detach().numpy(), rtol=5e-7, atol=1e-6)
    np.testing.assert_allclose(slope, ht.grad.numpy(), rtol=5e-7, atol=1e-6)


def _load_demo() -> object:
    spec = importlib.util.spec_from_file_location("tiny_gpt", ROOT / "demos" / "tiny_gpt.py")
    gpt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpt)
    return gpt


def test_gpt_twin_matches_torch_over_two_steps() -> None:
    gpt = _load_demo()
    import gpt_twin
    chars = "abcdefghij ."
    cfg = {"block_size": 8, "n_embd": 16, "n_head": 2, "n_layer": 2}
    model = gpt.TinyGPT(chars, **cfg, seed=0, dtype="float32")
    recipe = gpt.parse(["--steps", "10", "--warmup", "2", "--clip", "0.5"])
    tmodel = gpt_twin.twin(model, torch)
    topt, tsched = gpt_twin.optimizer(tmodel, torch, recipe)
    lrs = [g["lr"] for g in topt.param_groups][:1] + [0.0] * 10
    weights = {k: v.data for k, v in model.named_parameters()}
    twin = twins.TinyGPT(weights, cfg["n_layer"], cfg["n_head"], lambda i: lrs[i],
                         recipe.weight_decay, (0.9, 0.99), 1e-8, recipe.clip)
    rng = np.random.default_rng(2)
    for step in range(2):
        x = rng.integers(0, len(chars), (4, cfg["block_size"]))
        y = rng.integers(0, len(chars), (4, cfg["block_size"]))
        lrs[step] = topt.param_groups[0]["lr"]
        theirs = gpt_twin.step(tmodel, topt, tsched, torch, x, y, recipe.clip)
        ours = twin.step(x, y)
        assert math.isclose(ours, theirs, rel_tol=1e-5), (step, ours, theirs)
    by_name = dict(zip((k for k, _ in model.named_parameters()), tmodel.parameters()))
    assert len(by_name) == len(twin.w)
    # torch's parameters come in the twin module's order; match them by shape and value
    # through the project's names (gpt_twin copies them one to one, in that order)
    e = cfg["n_embd"]
    for (name, _), p in zip(model.named_parameters(), _torch_in_our_order(tmodel, model)):
        ours, theirs = twin.w[name], p.detach().numpy()
        if name.endswith("attn.b_in"):
            # the keys' bias adds a constant to each row of scores: its gradient is exactly 0,
            # and Adam turns the two engines' rounding noise there into full-size steps
            ours, theirs = np.delete(ours, np.s_[e:2 * e]), np.delete(theirs, np.s_[e:2 * e])
        close(ours, theirs, name, rtol=1e-4)
    assert isinstance(model, nn.Module)


def _torch_in_our_order(tmodel: object, model: object) -> list:
    """The twin's torch parameters in the order of model.named_parameters()."""
    out = []
    for name, _ in model.named_parameters():
        parts = name.split(".")
        if parts[0] in ("tok", "pos"):
            out.append(getattr(tmodel, parts[0]).weight)
        elif parts[0] in ("ln_f", "head"):
            out.append(getattr(getattr(tmodel, parts[0]), {"w": "weight", "b": "bias"}[parts[1]]))
        else:
            block = tmodel.blocks[int(parts[1])]
            layer, which = parts[2], parts[3]
            if layer == "attn":
                out.append({"w_in": block.attn.in_proj_weight, "b_in": block.attn.in_proj_bias,
                            "w_out": block.attn.out_proj.weight,
                            "b_out": block.attn.out_proj.bias}[which])
            else:
                out.append(getattr(getattr(block, layer),
                                   {"w": "weight", "b": "bias"}[which]))
    return out
