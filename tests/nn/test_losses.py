"""Losses: values (document numbers, torch), gradients (finite differences, torch), errors."""

import numpy as np
import pytest

import nn
from autograd import Value, grad, gradcheck, topological_order

RNG = np.random.default_rng(0)


# ---- mse_loss -----------------------------------------------------------------------------
def test_mse_half_sum_is_the_document_loss():
    # Loss = (1/2) × [(0.562 - 1.0)² + (0.438 - 0.0)²] = 0.192
    loss = nn.mse_loss(Value([0.562, 0.438]), [1.0, 0.0], reduction="half_sum")
    assert loss.item() == pytest.approx(0.5 * (0.438 ** 2 * 2), rel=1e-12)
    assert round(loss.item(), 3) == 0.192
    # the digit example's (1 - 0.657)² + (0 - 0.343)² = 0.235 is the "sum" reduction
    assert round(nn.mse_loss([0.657, 0.343], [1.0, 0.0], reduction="sum").item(), 3) == 0.235


def test_mse_reductions_and_gradient():
    pred = Value(RNG.standard_normal((4, 3)))
    target = RNG.standard_normal((4, 3))
    d = pred.data - target
    assert nn.mse_loss(pred, target).item() == pytest.approx(np.mean(d ** 2), rel=1e-12)
    assert nn.mse_loss(pred, target, "sum").item() == pytest.approx(np.sum(d ** 2), rel=1e-12)
    loss = nn.mse_loss(pred, target, "half_sum")
    loss.backward()
    np.testing.assert_allclose(pred.grad, d, rtol=1e-12)  # d/dp (1/2)Σ(p - t)² = p - t
    for red in ("mean", "sum", "half_sum"):
        assert gradcheck(lambda p, red=red: nn.mse_loss(p, target, red), pred.data)


def test_mse_checks_shapes_and_reduction():
    with pytest.raises(ValueError, match=r"pred has shape \(3,\) but target has shape \(2,\)"):
        nn.mse_loss(Value([1.0, 2.0, 3.0]), [1.0, 2.0])
    with pytest.raises(ValueError, match="reduction"):
        nn.mse_loss(Value([1.0]), [1.0], reduction="avg")
    assert nn.mse_loss(Value(3.0), 1.0).item() == 4.0  # scalars work too


# ---- cross_entropy -----------------------------------------------------------------------
def test_cross_entropy_value_and_gradient_p_minus_y():
    logits = Value(RNG.standard_normal((5, 4)))
    y = np.array([0, 3, 1, 1, 2])
    loss = nn.cross_entropy(logits, y)
    z = logits.data
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    assert loss.item() == pytest.approx(-logp[np.arange(5), y].mean(), rel=1e-12)
    loss.backward()
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(logits.grad, (np.exp(logp) - onehot) / 5, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("target", ["indices", "list", "onehot", "probs"])
def test_cross_entropy_gradcheck(target):
    logits = RNG.standard_normal((3, 4))
    y = np.array([2, 0, 3])
    t = {"indices": y, "list": [2, 0, 3], "onehot": np.eye(4)[y],
         "probs": RNG.dirichlet(np.ones(4), size=3)}[target]
    assert gradcheck(lambda z: nn.cross_entropy(z, t), logits)


def test_cross_entropy_single_sample_forms_agree():
    z = Value([0.713, 0.464])
    a = nn.cross_entropy(z, 0)
    b = nn.cross_entropy(z, [1.0, 0.0])
    c = nn.cross_entropy(Value([[0.713, 0.464]]), [0])
    assert a.item() == pytest.approx(-np.log(0.5619303), rel=1e-6)
    assert a.item() == pytest.approx(b.item(), rel=1e-14) == pytest.approx(c.item(), rel=1e-14)
    a.backward()
    np.testing.assert_allclose(z.grad[0], 0.56193035 - 1.0, atol=1e-7)  # -0.438


def test_cross_entropy_stable_for_huge_logits():
    z = Value([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]])
    loss = nn.cross_entropy(z, [0, 2])
    assert np.isfinite(loss.item())
    assert loss.item() == pytest.approx((0.0 + 1.0 + np.log1p(np.exp(-1.0))) / 2, rel=1e-12)
    loss.backward()
    assert np.all(np.isfinite(z.grad))


def test_cross_entropy_accepts_whole_float_labels():
    z = RNG.standard_normal((2, 3))
    assert nn.cross_entropy(z, np.array([2.0, 1.0])).item() == \
        pytest.approx(nn.cross_entropy(z, [2, 1]).item(), rel=1e-14)


def test_cross_entropy_errors():
    z = Value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class index 3 is out of range for 3 classes"):
        nn.cross_entropy(z, [0, 3])
    with pytest.raises(ValueError, match="class index -1"):
        nn.cross_entropy(z, [-1, 0])
    with pytest.raises(ValueError, match=r"target must be class indices of shape \(2,\) or "
                                         r"probability rows of shape \(2, 3\); got shape \(3,\)"):
        nn.cross_entropy(z, [0, 1, 2])
    with pytest.raises(ValueError, match="non-integer"):
        nn.cross_entropy(z, [0.5, 1.0])
    with pytest.raises(ValueError, match=r"logits have shape \(2, 2, 2\), so target must be "
                                         r"class indices of shape \(2, 2\)"):
        nn.cross_entropy(Value(np.zeros((2, 2, 2))), [0, 1])  # (N, C, d): targets (N, d)
    with pytest.raises(ValueError, match="out of range for 2 classes"):
        nn.cross_entropy(Value([0.1, 0.2]), 2)


# ---- binary_cross_entropy ------------------------------------------------------------------
def test_binary_cross_entropy_value_and_gradcheck():
    p = RNG.uniform(0.05, 0.95, size=(4, 2))
    y = RNG.integers(0, 2, size=(4, 2)).astype(float)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert nn.binary_cross_entropy(Value(p), y).item() == pytest.approx(expected, rel=1e-12)
    assert gradcheck(lambda q: nn.binary_cross_entropy(q, y), p)
    soft = RNG.uniform(0, 1, size=(4, 2))  # soft targets work too
    assert gradcheck(lambda q: nn.binary_cross_entropy(q, soft), p)


def test_binary_cross_entropy_clips_zero_and_one():
    p = Value([0.0, 1.0, 0.0, 1.0])
    loss = nn.binary_cross_entropy(p, [0.0, 1.0, 1.0, 0.0])
    assert np.isfinite(loss.item()) and loss.item() > 10  # confidently wrong: large, finite
    loss.backward()
    assert np.all(np.isfinite(p.grad))
    assert nn.binary_cross_entropy(Value([0.0, 1.0]), [0.0, 1.0]).item() < 1e-9


def test_binary_cross_entropy_after_sigmoid():
    z = RNG.standard_normal(6)
    y = np.array([0, 1, 1, 0, 1, 0], dtype=float)
    assert gradcheck(lambda v: nn.binary_cross_entropy(v.sigmoid(), y), z)
    with pytest.raises(ValueError, match="must match"):
        nn.binary_cross_entropy(Value(z), y[:3])


# ---- against torch -------------------------------------------------------------------------
def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = RNG.standard_normal((6, 4)) * 3
    y = RNG.integers(0, 4, size=6)
    probs = RNG.dirichlet(np.ones(4), size=6)
    cases = [
        (lambda v: nn.cross_entropy(v, y),
         lambda t: F.cross_entropy(t, torch.tensor(y))),
        (lambda v: nn.cross_entropy(v, probs),
         lambda t: F.cross_entropy(t, torch.tensor(probs))),
        (lambda v: nn.mse_loss(v, probs),
         lambda t: F.mse_loss(t, torch.tensor(probs))),
        (lambda v: nn.mse_loss(v, probs, "sum"),
         lambda t: F.mse_loss(t, torch.tensor(probs), reduction="sum")),
        (lambda v: nn.binary_cross_entropy(v.sigmoid(), (probs > 0.25) * 1.0),
         lambda t: F.binary_cross_entropy(t.sigmoid(), torch.tensor((probs > 0.25) * 1.0))),
    ]
    for ours, theirs in cases:
        v = Value(z)
        loss = ours(v)
        loss.backward()
        t = torch.tensor(z, requires_grad=True)
        tl = theirs(t)
        tl.backward()
        assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make", [
    lambda z: nn.mse_loss(z, np.zeros(z.shape)),
    lambda z: nn.mse_loss(z[0], np.zeros(3), reduction="half_sum"),
    lambda z: nn.cross_entropy(z, [0, 2]),
    lambda z: nn.cross_entropy(z[1], 2),
    lambda z: nn.binary_cross_entropy(z.sigmoid(), np.ones(z.shape)),
], ids=["mse-batch", "mse-one", "ce-batch", "ce-one", "bce"])
def test_every_loss_is_a_scalar_value_and_keeps_the_weights_dtype(make, dtype):
    """SPEC: each loss returns a scalar Value (data a Python float); gradients keep dtype."""
    z = Value(np.array([[0.2, -1.0, 0.5], [1.5, 0.3, -0.7]], dtype=dtype))
    loss = make(z)
    assert type(loss.data) is float and loss.shape == ()
    loss.backward()
    assert z.grad.dtype == dtype and np.any(z.grad != 0)


# ---- binary cross-entropy: probabilities refused outside [0, 1], the stable logits form ----
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_keeps_the_gradient_of_a_confident_wrong_prediction(dtype):
    """sigmoid(-20) for a true 1: dL/dz = p - y ≈ -1, as torch gives (it was 0 in float32)."""
    torch = pytest.importorskip("torch")
    z = Value(np.array([-20.0, 20.0, -8.0], dtype=dtype))
    y = np.array([1.0, 0.0, 1.0])
    loss = nn.binary_cross_entropy(z.sigmoid(), y)
    loss.backward()
    t = torch.tensor(z.data, requires_grad=True)
    tl = torch.nn.functional.binary_cross_entropy(t.sigmoid(), torch.tensor(y, dtype=t.dtype))
    tl.backward()
    assert z.grad.dtype == dtype
    np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert z.grad[0] == pytest.approx(-1 / 3, rel=1e-5)
    assert loss.item() == pytest.approx(tl.item(), rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("bad", [[0.5, 1.5], [-0.1, 0.5], [0.5, np.nan], [[3.0, -2.0]]])
def test_bce_refuses_what_is_not_a_probability(bad):
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*binary_cross_entropy"
                                         r"_with_logits\(logits, target\)"):
        nn.binary_cross_entropy(Value(bad), np.zeros(np.shape(bad)))


def test_bce_with_logits_matches_torch_for_any_logit():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = np.array([-1000.0, -100.0, -20.0, -1.5, 0.0, 0.0, 2.0, 40.0, 700.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 0.3, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    for dtype in (np.float64, np.float32):
        v = Value(z.astype(dtype))
        loss = nn.binary_cross_entropy_with_logits(v, y)
        loss.backward()
        t = torch.tensor(z.astype(dtype), requires_grad=True)
        tl = F.binary_cross_entropy_with_logits(t, torch.tensor(y, dtype=t.dtype))
        tl.backward()
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        assert np.isfinite(loss.item()) and loss.item() == pytest.approx(tl.item(), rel=rtol)
        assert v.grad.dtype == dtype
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=rtol, atol=1e-30)


def test_bce_with_logits_gradients_and_forms():
    z = RNG.standard_normal((3, 2)) * 4
    y = RNG.uniform(0, 1, size=(3, 2))
    assert gradcheck(lambda v: nn.binary_cross_entropy_with_logits(v, y), z)
    p = 1 / (1 + np.exp(-z))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert nn.binary_cross_entropy_with_logits(z, y).item() == pytest.approx(expected, rel=1e-12)
    one = Value(0.0)  # one logit, as a scalar Value
    nn.binary_cross_entropy_with_logits(one, 1.0).backward()
    assert one.grad == pytest.approx(-0.5)
    v = Value(z)  # differentiable twice: d²L/dz² = p(1 - p) / n
    (g,) = grad(nn.binary_cross_entropy_with_logits(v, y), v, create_graph=True)
    (h,) = grad(g.sum(), v)
    np.testing.assert_allclose(h, p * (1 - p) / z.size, rtol=1e-10)
    with pytest.raises(ValueError, match="logits has shape"):
        nn.binary_cross_entropy_with_logits(Value(z), y[:2])


@pytest.mark.parametrize("make", [
    lambda z, t: nn.mse_loss(z, t),
    lambda z, t: nn.cross_entropy(z, t / t.sum(axis=1, keepdims=True)),
    lambda z, t: nn.cross_entropy(z[0], t[0] / t[0].sum()),
    lambda z, t: nn.binary_cross_entropy(z.sigmoid(), t),
    lambda z, t: nn.binary_cross_entropy_with_logits(z, t),
], ids=["mse", "ce-rows", "ce-one-row", "bce", "bce-logits"])
def test_float32_stays_float32_with_float64_targets(make):
    """A float64 target (the numpy default) must not turn a float32 loss into float64."""
    z = Value(np.array([[0.2, -1.0, 0.5], [1.5, 0.3, -0.7]], dtype=np.float32))
    target = np.array([[0.0, 1.0, 0.5], [1.0, 0.25, 0.0]])  # float64
    loss = make(z, target)
    tensors = [v for v in topological_order(loss) if not v.is_scalar]
    assert {str(v.dtype) for v in tensors} == {"float32"}
