"""nn.init against torch.nn.init: the same gains, fans and bounds, the same statistics of a
large draw (ours and torch's side by side), shapes and dtypes kept, filled in place."""

import math

import numpy as np
import pytest

import nn
from autograd import Value

SHAPES = [(256, 384), (96, 64, 4, 4)]  # a Linear's (out, in) and a Conv2d's (out, in, kh, kw)
CASES = [
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("normal_", {"mean": 0.2, "std": 0.05}),
    ("trunc_normal_", {"std": 0.5, "a": -0.6, "b": 0.9}),
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 5.0 / 3}),
    ("xavier_normal_", {"gain": 2.0}),
    ("kaiming_uniform_", {}),  # torch's defaults: leaky_relu with a=0, fan_in
    ("kaiming_uniform_", {"a": math.sqrt(5)}),  # what torch.nn.Linear uses
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("orthogonal_", {"gain": 1.5}),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name,kwargs", CASES)
def test_statistics_match_torch(name, kwargs, shape):
    torch = pytest.importorskip("torch")
    p = Value(np.zeros(shape))
    data = p.data
    out = getattr(nn.init, name)(p, generator=0, **kwargs)
    assert out is p and p.data is data and p.shape == shape and p.dtype == np.float64
    ours = p.data.ravel()
    theirs = getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64),
                                          generator=torch.Generator().manual_seed(0),
                                          **kwargs).numpy().ravel()
    n = ours.size
    assert abs(ours.mean() - theirs.mean()) < 6 * theirs.std() / math.sqrt(n)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    if "uniform" in name or name == "trunc_normal_":  # the same support
        assert ours.min() == pytest.approx(theirs.min(), abs=0.01 * theirs.std())
        assert ours.max() == pytest.approx(theirs.max(), abs=0.01 * theirs.std())
    if name == "orthogonal_":
        rows = p.data.reshape(shape[0], -1)
        np.testing.assert_allclose(rows @ rows.T, 1.5 ** 2 * np.eye(shape[0]), atol=1e-10)


@pytest.mark.parametrize("name,kwargs", [("xavier_uniform_", {}), ("kaiming_normal_", {}),
                                         ("kaiming_uniform_", {"mode": "fan_out"})])
def test_the_scale_is_torch_s_formula(name, kwargs):
    # a uniform draw's bound and a normal draw's std, against torch's documented formulas
    torch = pytest.importorskip("torch")
    shape = (300, 200)
    ours = getattr(nn.init, name)(np.zeros(shape), generator=1, **kwargs)
    fan_in, fan_out = 200, 300
    if name == "xavier_uniform_":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert np.abs(ours).max() <= bound and np.abs(ours).max() > 0.999 * bound
    elif name == "kaiming_normal_":
        assert ours.std() == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.01)
    else:
        bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(fan_out)
        assert np.abs(ours).max() <= bound and np.abs(ours).max() > 0.999 * bound
    theirs = getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64), **kwargs)
    assert ours.std() == pytest.approx(float(theirs.std()), rel=0.02)


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_is_torch_s(nonlinearity, param):
    torch = pytest.importorskip("torch")
    assert nn.init.calculate_gain(nonlinearity, param) == \
        pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_constants_eye_float32_scalars_and_determinism():
    p = Value(np.ones((3, 4), dtype=np.float32))
    nn.init.xavier_normal_(p, generator=3)
    assert p.dtype == np.float32
    q = Value(np.ones((3, 4), dtype=np.float32))
    nn.init.xavier_normal_(q, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(p.data, q.data)  # a seed and its Generator draw the same
    np.testing.assert_array_equal(nn.init.zeros_(p).data, np.zeros((3, 4)))
    np.testing.assert_array_equal(nn.init.ones_(p).data, np.ones((3, 4)))
    np.testing.assert_array_equal(nn.init.constant_(p, 0.25).data, np.full((3, 4), 0.25))
    np.testing.assert_array_equal(nn.init.eye_(p).data, np.eye(3, 4))
    b = Value(0.0)  # a scalar parameter (a Neuron's bias) stays a Python float
    nn.init.normal_(b, generator=0)
    assert b.is_scalar and b.data != 0.0
    layer = nn.Layer(5, 3, seed=0)
    nn.init.kaiming_uniform_(layer.w, nonlinearity="relu", generator=0)
    assert np.abs(layer.w.data).max() <= math.sqrt(6 / 5)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(Value(np.zeros(4)))
    with pytest.raises(ValueError, match="mode 'fan_middle'"):
        nn.init.kaiming_normal_(Value(np.zeros((2, 2))), mode="fan_middle")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
    with pytest.raises(TypeError, match="Value or a float ndarray"):
        nn.init.normal_([1.0, 2.0])
    with pytest.raises(TypeError, match="generator"):
        nn.init.normal_(Value(np.zeros(2)), generator="seed")
    with pytest.raises(ValueError, match="2-D"):
        nn.init.eye_(Value(np.zeros((2, 2, 2))))
