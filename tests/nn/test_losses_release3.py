"""The losses of release 3 and cross_entropy's options against torch.nn.functional:
values and input gradients in float64 (rtol 1e-10) and float32, every reduction."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Value

torch = pytest.importorskip("torch", reason="the losses are checked against torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)
LOGITS2 = RNG.normal(size=(5, 4)) * 2
LOGITS4 = RNG.normal(size=(3, 4, 2, 3))
IDX2 = np.array([0, 3, -100, 1, 3])
IDX4 = RNG.integers(0, 4, size=(3, 2, 3))
IDX4[0, 1, 2] = 7  # ignored with ignore_index=7
PROBS4 = np.moveaxis(RNG.dirichlet(np.ones(4), size=(3, 2, 3)), -1, 1)
PRED, TARGET = RNG.normal(size=(4, 3)) * 2, RNG.normal(size=(4, 3)) * 2
TARGET[0, 0] = PRED[0, 0] + 1.0  # exactly on huber's delta: torch's side
LOGP = np.log(RNG.dirichlet(np.ones(3), size=4))
Q = RNG.dirichlet(np.ones(3), size=4)
Q[1, 2] = 0.0  # t log t = 0 there

CASES = {  # name: (ours, torch's, input, constant target)
    "ce_smoothing": (lambda x, r: nn.cross_entropy(x, IDX2, r, label_smoothing=0.1),
                     lambda x, r: F.cross_entropy(x, torch.tensor(IDX2), reduction=r,
                                                  label_smoothing=0.1), LOGITS2),
    "ce_nd_ignore": (lambda x, r: nn.cross_entropy(x, IDX4, r, ignore_index=7),
                     lambda x, r: F.cross_entropy(x, torch.tensor(IDX4), reduction=r,
                                                  ignore_index=7), LOGITS4),
    "ce_nd_probs_smoothing": (lambda x, r: nn.cross_entropy(x, PROBS4, r, label_smoothing=0.2),
                              lambda x, r: F.cross_entropy(x, torch.tensor(PROBS4, dtype=x.dtype), reduction=r,
                                                           label_smoothing=0.2), LOGITS4),
    "ce_plain": (lambda x, r: nn.cross_entropy(x, np.array([0, 3, 2, 1, 3]), r),
                 lambda x, r: F.cross_entropy(x, torch.tensor([0, 3, 2, 1, 3]), reduction=r),
                 LOGITS2),
    "nll": (lambda x, r: nn.nll_loss(x.log_softmax(axis=1), IDX2, r),
            lambda x, r: F.nll_loss(x.log_softmax(1), torch.tensor(IDX2), reduction=r), LOGITS2),
    "nll_nd": (lambda x, r: nn.nll_loss(x, IDX4, r, ignore_index=7),
               lambda x, r: F.nll_loss(x, torch.tensor(IDX4), reduction=r, ignore_index=7),
               LOGITS4),
    "l1": (lambda x, r: nn.l1_loss(x, TARGET, r),
           lambda x, r: F.l1_loss(x, torch.tensor(TARGET, dtype=x.dtype), reduction=r), PRED),
    "huber": (lambda x, r: nn.huber_loss(x, TARGET, r),
              lambda x, r: F.huber_loss(x, torch.tensor(TARGET, dtype=x.dtype), reduction=r), PRED),
    "huber_delta": (lambda x, r: nn.huber_loss(x, TARGET, r, delta=2.5),
                    lambda x, r: F.huber_loss(x, torch.tensor(TARGET, dtype=x.dtype), reduction=r, delta=2.5),
                    PRED),
    "smooth_l1": (lambda x, r: nn.smooth_l1_loss(x, TARGET, r, beta=0.5),
                  lambda x, r: F.smooth_l1_loss(x, torch.tensor(TARGET, dtype=x.dtype), reduction=r, beta=0.5),
                  PRED),
    "smooth_l1_beta0": (lambda x, r: nn.smooth_l1_loss(x, TARGET, r, beta=0.0),
                        lambda x, r: F.smooth_l1_loss(x, torch.tensor(TARGET, dtype=x.dtype), reduction=r,
                                                      beta=0.0), PRED),
    "kl_div": (lambda x, r: nn.kl_div(x, Q, r),
               lambda x, r: F.kl_div(x, torch.tensor(Q, dtype=x.dtype), reduction=r), LOGP),
    "kl_div_log_target": (lambda x, r: nn.kl_div(x, np.log(Q + 0.1), r, log_target=True),
                          lambda x, r: F.kl_div(x, torch.tensor(np.log(Q + 0.1), dtype=x.dtype), reduction=r,
                                                log_target=True), LOGP),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_loss_value_and_gradient_match_torch(name: str, reduction: str, dtype: str) -> None:
    ours, theirs, x0 = CASES[name]
    x0 = x0.astype(dtype)
    x = Value(x0)
    out = ours(x, reduction)
    t = torch.tensor(x0, requires_grad=True)
    tout = theirs(t, reduction)
    rtol = 1e-10 if dtype == "float64" else 2e-5
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=rtol * 1e-2)
    w = np.random.default_rng(1).uniform(0.5, 1.5, out.shape).astype(dtype)
    (out * (float(w) if out.is_scalar else w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    assert np.asarray(x.grad).dtype == np.dtype(dtype)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)


def test_kl_div_batchmean() -> None:
    x = Value(LOGP)
    t = torch.tensor(LOGP, requires_grad=True)
    nn.kl_div(x, Q, "batchmean").backward()
    F.kl_div(t, torch.tensor(Q), reduction="batchmean").backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def test_every_target_ignored_is_nan_as_torch() -> None:
    out = nn.cross_entropy(Value(LOGITS2), np.full(5, -100))
    assert np.isnan(out.data)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.cross_entropy(Value(LOGITS2), IDX2, reduction="avg"), "reduction must be one of"),
    (lambda: nn.cross_entropy(Value(LOGITS2), np.array([0, 1, 2, 9, 0])),
     "class index 9 is out of range for 4 classes"),
    (lambda: nn.cross_entropy(Value(LOGITS2), IDX2, label_smoothing=1.5),
     "label_smoothing must be in"),
    (lambda: nn.nll_loss(Value(LOGITS2), np.zeros(4)), "nll_loss: target must be class indices"),
    (lambda: nn.l1_loss(Value(PRED), TARGET[:2]), "l1_loss: input has shape"),
    (lambda: nn.huber_loss(Value(PRED), TARGET, delta=0), "delta must be positive"),
    (lambda: nn.kl_div(Value(LOGP), Q, reduction="batch"), "kl_div: reduction must be"),
])
def test_bad_loss_input_is_named(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
