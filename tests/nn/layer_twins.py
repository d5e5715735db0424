"""A layer and its torch.nn twin, weights copied in: outputs and every gradient compared.

`assert_twins(ours, theirs, x)` copies ours' parameters into theirs (ours' ``w``/``b`` are
torch's ``weight``/``bias``), runs both forward on `x`, backward with the same random
upstream gradient, and compares the output, the input's gradient and each parameter's
gradient at the dtype's tolerance (float64: rtol 1e-9; float32: rtol 1e-4).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd import Value

TOL = {np.dtype(np.float64): {"rtol": 1e-9, "atol": 1e-12},
       np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-5}}
TORCH_NAMES = {"w": "weight", "b": "bias"}


def torch_module() -> Any:
    return pytest.importorskip("torch", reason="the layer cross-checks need torch==2.13.0")


def copy_into(ours: Any, theirs: Any) -> None:
    """ours' parameters into theirs (same layout), as torch tensors of ours' dtype."""
    torch = torch_module()
    tdtype = torch.float64 if ours.dtype == np.float64 else torch.float32
    theirs.to(tdtype)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            getattr(theirs, TORCH_NAMES.get(name, name)).copy_(torch.from_numpy(p.data))


def assert_twins(ours: Any, theirs: Any, x: np.ndarray, seed: int = 0) -> Value:
    """Forward and backward through both; returns our output."""
    torch = torch_module()
    copy_into(ours, theirs)
    tol = TOL[np.dtype(x.dtype)]
    xv = Value(x)
    out = ours(xv)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    out_t = theirs(xt)
    assert out.dtype == x.dtype, f"{type(ours).__name__} turned {x.dtype} into {out.dtype}"
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(x.dtype)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xv.grad, xt.grad.numpy(), **tol, err_msg="input gradient")
    for name, p in ours.named_parameters():
        tp = getattr(theirs, TORCH_NAMES.get(name, name))
        assert p.grad.dtype == x.dtype
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), **tol, err_msg=f"{name}'s gradient")
    return out
