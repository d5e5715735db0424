"""Embedding: lookups and their accumulated gradient against torch.nn.Embedding, bad indices,
and the layer lifecycle (float32, state_dict, save/load, freeze, draw, explain)."""

import numpy as np
import pytest

import nn
from autograd import Value, draw_graph, explain, gradcheck

IDX = np.array([[1, 3, 3], [0, 3, 1]])  # index 3 repeated: its gradient rows add up


def test_lookup_is_row_selection_and_repeated_indices_accumulate():
    emb = nn.Embedding(5, 4, seed=0)
    out = emb(IDX)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, emb.w.data[IDX])
    g = np.random.default_rng(1).uniform(-1, 1, out.shape)
    out.backward(g)
    expected = np.zeros((5, 4))
    for pos in np.ndindex(IDX.shape):
        expected[IDX[pos]] += g[pos]
    np.testing.assert_allclose(emb.w.grad, expected, rtol=1e-15)
    assert not emb.w.grad[[2, 4]].any()  # rows never looked up get nothing
    assert gradcheck(lambda w: w[IDX] * g, Value(emb.w.data))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_matches_torch_embedding(dtype, rtol):
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(6, 3, seed=2, dtype=dtype)
    ref = torch.nn.Embedding(6, 3).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(emb.w.data))
    g = np.random.default_rng(3).uniform(-1, 1, IDX.shape + (3,)).astype(dtype)
    out = emb(IDX)
    out.backward(g)
    tout = ref(torch.tensor(IDX))
    tout.backward(torch.tensor(g))
    assert out.dtype == dtype and emb.w.grad.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(emb.w.grad, ref.weight.grad.numpy(), rtol=rtol, atol=1e-7)


def test_any_index_shape_and_a_single_index():
    emb = nn.Embedding(4, 2, seed=0)
    assert emb(2).shape == (2,)
    assert emb([0, 1]).shape == (2, 2)
    assert emb(np.zeros((2, 3, 4), dtype=np.int32)).shape == (2, 3, 4, 2)


@pytest.mark.parametrize("bad", [[0, 7], [[1, -1]], 4])
def test_out_of_range_index_names_the_layer_and_the_range(bad):
    emb = nn.Embedding(4, 2)
    with pytest.raises(ValueError, match=r"Embedding\(4, 2\).*out of range.*\[0, 4\)"):
        emb(bad)


def test_float_indices_are_refused():
    with pytest.raises(TypeError, match=r"Embedding\(4, 2\) expects integer indices.*float64"):
        nn.Embedding(4, 2)(np.array([0.0, 1.0]))


def test_lifecycle_float32_state_dict_save_load_freeze(tmp_path):
    emb = nn.Embedding(5, 3, seed=4, dtype=np.float32)
    assert emb.w.dtype == np.float32 and emb(IDX).dtype == np.float32
    assert list(emb.state_dict()) == ["w"]
    path = emb.save(tmp_path / "emb.npz")
    back = nn.load(path)
    assert isinstance(back, nn.Embedding) and back.w.dtype == np.float32
    np.testing.assert_array_equal(back(IDX).data, emb(IDX).data)
    emb.freeze()
    emb(IDX).sum().backward()
    assert not emb.w.grad.any()


def test_draw_and_explain_show_the_lookup():
    emb = nn.Embedding(3, 2, seed=0)
    out = emb([2, 0, 2]).sum()
    out.backward()
    dot = draw_graph(out).source
    assert "<B>w</B>" in dot and "[2 0 2]" in dot  # the table, and the lookup's indices
    text = explain(out)
    assert "dout/dw₃,₁ = ∂out/∂w₃,₁ = 2" in text  # row 3 looked up twice
    assert "dout/dw₂,₁ = ∂out/∂w₂,₁ = 0" in text
