"""MultiheadAttention against torch.nn.MultiheadAttention with copied weights: outputs and every
parameter and input gradient, with and without the causal mask, float64 and float32; second
derivatives against finite differences; bad input; the layer lifecycle."""

import numpy as np
import pytest

import nn
import nn.attention
from autograd import Value, draw_graph, explain, grad, gradcheck, topological_order
from nn.attention import self_attention


@pytest.fixture(params=["fused", "step_by_step"])
def path(request, monkeypatch):
    """Run a test through the one-node attention op and through the small ops."""
    monkeypatch.setattr(nn.attention, "STEP_BY_STEP", 0 if request.param == "fused" else 10**9)
    return request.param


def _torch_twin(layer: nn.MultiheadAttention):
    torch = pytest.importorskip("torch")
    ref = torch.nn.MultiheadAttention(layer.embed_dim, layer.num_heads, batch_first=True,
                                      dtype=getattr(torch, layer.dtype.name))
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(layer.w_in.data))
        ref.in_proj_bias.copy_(torch.tensor(layer.b_in.data))
        ref.out_proj.weight.copy_(torch.tensor(layer.w_out.data))
        ref.out_proj.bias.copy_(torch.tensor(layer.b_out.data))
    return torch, ref


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-9, 1e-12),
                                               (np.float32, 2e-5, 2e-6)])
def test_matches_torch_with_copied_weights(causal, dtype, rtol, atol, path):
    rng = np.random.default_rng(0)
    layer = nn.MultiheadAttention(8, 2, seed=1, dtype=dtype)
    for p in (layer.b_in, layer.b_out):  # torch starts biases at zero: test non-zero ones
        p.data = rng.uniform(-0.5, 0.5, p.shape).astype(dtype)
    torch, ref = _torch_twin(layer)
    xd = rng.uniform(-1, 1, (3, 5, 8)).astype(dtype)
    g = rng.uniform(-1, 1, (3, 5, 8)).astype(dtype)

    x = Value(xd)
    out = layer(x, causal=causal)
    out.backward(g)
    tx = torch.tensor(xd, requires_grad=True)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=tx.dtype) \
        if causal else None
    tout, _ = ref(tx, tx, tx, attn_mask=mask, need_weights=False)
    tout.backward(torch.tensor(g))

    assert out.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=rtol, atol=atol)
    grads = {"w_in": ref.in_proj_weight, "b_in": ref.in_proj_bias,
             "w_out": ref.out_proj.weight, "b_out": ref.out_proj.bias}
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def test_causal_mask_hides_the_future(path):
    layer = nn.MultiheadAttention(4, 2, seed=0)
    x = np.random.default_rng(1).normal(size=(2, 6, 4))
    full = layer(x, causal=True).data
    changed = x.copy()
    changed[:, 4:] += 10.0  # change the last two steps: earlier outputs must not move
    after = layer(changed, causal=True).data
    np.testing.assert_allclose(after[:, :4], full[:, :4], rtol=1e-13)
    assert not np.allclose(after[:, 4:], full[:, 4:])
    assert not np.allclose(layer(changed).data[:, :4], layer(x).data[:, :4])  # no mask: moves


def test_one_sequence_without_a_batch_axis():
    layer = nn.MultiheadAttention(4, 1, seed=0)
    x = np.random.default_rng(2).normal(size=(3, 4))
    np.testing.assert_allclose(layer(x).data, layer(x[None]).data[0], rtol=1e-14)


@pytest.mark.parametrize("causal", [False, True])
def test_gradients_and_second_derivatives_match_finite_differences(causal, path):
    rng = np.random.default_rng(3)
    layer = nn.MultiheadAttention(4, 2, seed=2)
    w = rng.uniform(-1, 1, (2, 3, 4))

    def f(x, w_in, b_in, w_out, b_out):
        return self_attention(x, w_in, b_in, w_out, b_out, 2, causal) * w

    data = [Value(rng.uniform(-1, 1, (2, 3, 4)))] + [
        Value(p.data + rng.uniform(-0.3, 0.3, p.shape))
        for p in (layer.w_in, layer.b_in, layer.w_out, layer.b_out)]
    assert gradcheck(f, *data)
    u = rng.uniform(-1, 1, (2, 3, 4))

    def hvp(x, *ps):
        loss = (f(x, *ps) ** 2).sum()
        (gx,) = grad(loss, [x], create_graph=True)
        return (gx * u).sum()

    assert gradcheck(hvp, *data)


@pytest.mark.parametrize("shape", [(5, 4, 4, 1), (2, 3, 6), (4,)])
def test_bad_input_names_the_layer_and_the_expected_shape(shape):
    layer = nn.MultiheadAttention(4, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(4, num_heads=2\) expects input "
                                         r"of shape \(N, T, 4\).*got shape"):
        layer(np.zeros(shape))


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)


def test_lifecycle_float32_state_dict_save_load_freeze(tmp_path):
    layer = nn.MultiheadAttention(4, 2, seed=5, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    assert all(p.dtype == np.float32 for p in layer.parameters())
    assert layer(x, causal=True).dtype == np.float32
    assert list(layer.state_dict()) == ["w_in", "w_out", "b_in", "b_out"]
    back = nn.load(layer.save(tmp_path / "mha.npz"))
    np.testing.assert_array_equal(back(x, causal=True).data, layer(x, causal=True).data)
    layer.freeze()
    xv = Value(x)
    layer(xv).sum().backward()
    assert xv.grad.any() and not any(p.grad.any() for p in layer.parameters())


def test_fused_and_step_by_step_agree_with_second_derivatives(monkeypatch):
    rng = np.random.default_rng(6)
    layer = nn.MultiheadAttention(4, 2, seed=3)
    xd, w, u = (rng.uniform(-1, 1, (2, 3, 4)) for _ in range(3))
    results = []
    for limit in (0, 10**9):
        monkeypatch.setattr(nn.attention, "STEP_BY_STEP", limit)
        x = Value(xd)
        loss = ((layer(x, causal=True) * w) ** 2).sum()
        (gx,) = grad(loss, [x], create_graph=True)
        hvp = grad((gx * u).sum(), [x, *layer.parameters()])
        results.append((loss.item(), gx.data, hvp))
        ops = {v.op for v in topological_order(loss)}
        assert ("attention" in ops) == (limit == 0)
    (l1, g1, h1), (l2, g2, h2) = results
    assert l1 == pytest.approx(l2, rel=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
    for a, b in zip(h1, h2):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_draw_and_explain_a_tiny_attention():
    layer = nn.MultiheadAttention(2, 1, seed=0)
    out = layer(np.array([[[1.0, 0.5], [0.2, -0.3]]]), causal=True).sum()
    out.backward()
    assert "softmax" in draw_graph(out).source
    text = explain(out)
    assert "softmax" in text and "w_in" in text


def test_an_empty_sequence_gives_empty_results_as_torch():
    torch = pytest.importorskip("torch")
    m = nn.MultiheadAttention(4, 2, seed=0)
    x = Value(np.zeros((2, 0, 4)))
    for causal in (False, True):
        y = m(x, causal=causal)
        assert y.shape == (2, 0, 4)
        y.sum().backward()
        assert x.grad.shape == (2, 0, 4)
    t = torch.nn.MultiheadAttention(4, 2, batch_first=True, dtype=torch.float64)
    tx = torch.zeros((2, 0, 4), dtype=torch.float64)
    assert tuple(t(tx, tx, tx)[0].shape) == y.shape
