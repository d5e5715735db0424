"""The activation modules and Flatten against torch.nn's, in float64 and float32."""

from __future__ import annotations

import numpy as np
import pytest
from layer_twins import assert_twins, torch_module

import nn
from autograd import Value

DTYPES = [np.float64, np.float32]
NEEDS_GELU = pytest.mark.skipif(not hasattr(Value, "gelu"),
                                reason="Value.gelu/leaky_relu land with the ops helper")
ACTIVATIONS = [  # (ours, torch's, kwargs)
    (nn.ReLU, "ReLU", {}),
    (nn.Tanh, "Tanh", {}),
    (nn.Sigmoid, "Sigmoid", {}),
    pytest.param(nn.LeakyReLU, "LeakyReLU", {}, marks=NEEDS_GELU, id="LeakyReLU"),
    pytest.param(nn.LeakyReLU, "LeakyReLU", {"negative_slope": 0.2}, marks=NEEDS_GELU,
                 id="LeakyReLU0.2"),
    pytest.param(nn.GELU, "GELU", {}, marks=NEEDS_GELU, id="GELU"),
    pytest.param(nn.GELU, "GELU", {"approximate": "tanh"}, marks=NEEDS_GELU, id="GELU-tanh"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("ours", "theirs", "kwargs"), ACTIVATIONS)
def test_activation_matches_torch(ours, theirs, kwargs, dtype):
    torch = torch_module()
    x = (np.random.default_rng(0).standard_normal((4, 3, 5)) * 3).astype(dtype)
    assert_twins(ours(**kwargs, dtype=dtype), getattr(torch.nn, theirs)(**kwargs), x)


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.Tanh(), nn.Sigmoid(),
                                   pytest.param(nn.GELU(), marks=NEEDS_GELU),
                                   pytest.param(nn.LeakyReLU(0.1), marks=NEEDS_GELU)])
def test_activation_takes_lists_and_one_sample(layer):
    out = layer([-1.0, 0.5, 2.0])
    assert isinstance(out, Value) and out.shape == (3,) and out.dtype == np.float64
    assert layer.num_parameters() == 0
    assert np.asarray(nn.ReLU(dtype=np.float32)(np.ones(2)).data).dtype == np.float32


@NEEDS_GELU
def test_activations_chain_in_sequential_like_torch():
    torch = torch_module()
    ours = nn.Sequential(nn.Linear(6, 5, seed=0), nn.GELU(), nn.Linear(5, 4, seed=1),
                         nn.LeakyReLU(0.05), nn.Linear(4, 2, seed=2), nn.Tanh())
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.GELU(), torch.nn.Linear(5, 4),
                                 torch.nn.LeakyReLU(0.05), torch.nn.Linear(4, 2),
                                 torch.nn.Tanh()).double()
    with torch.no_grad():
        for i in (0, 2, 4):
            theirs[i].weight.copy_(torch.from_numpy(ours.layers[i].w.data))
            theirs[i].bias.copy_(torch.from_numpy(ours.layers[i].b.data))
    x = np.random.default_rng(1).standard_normal((7, 6))
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("slope", [True, "0.1", float("nan"), None])
def test_leaky_relu_refuses_a_bad_slope(slope):
    with pytest.raises(ValueError, match="LeakyReLU negative_slope must be a finite number"):
        nn.LeakyReLU(slope)


def test_activation_refuses_text_input():
    with pytest.raises(TypeError, match="ReLU expects numeric input"):
        nn.ReLU()(["a", "b"])


# ---- Flatten -----------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "end", "shape"), [(1, -1, (2, 3, 4, 5)), (0, -1, (2, 3, 4)),
                                                     (1, 2, (2, 3, 4, 5)), (-2, -1, (2, 3, 4))])
def test_flatten_matches_torch(start, end, shape):
    torch = torch_module()
    x = np.random.default_rng(2).standard_normal(shape)
    out = assert_twins(nn.Flatten(start, end), torch.nn.Flatten(start, end), x)
    assert out.shape == tuple(torch.nn.Flatten(start, end)(torch.zeros(shape)).shape)


def test_flatten_keeps_float32_and_one_flat_sample():
    assert nn.Flatten()(np.zeros((2, 3, 4), dtype=np.float32)).shape == (2, 12)
    assert nn.Flatten(dtype=np.float32)(np.zeros((2, 3))).dtype == np.float32
    assert nn.Flatten()([1.0, 2.0]).shape == (2,)


def test_flatten_refuses_axes_the_input_does_not_have():
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=2, end_dim=-1\) does not fit an "
                                         r"input of shape \(4, 3\) \(2 axes\)"):
        nn.Flatten(2)(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="Flatten start_dim must be an int, got 1.5"):
        nn.Flatten(1.5)
