"""NumPy written by hand: the digits CNN, causal self-attention and the tiny GPT, each as
one function with its forward pass, its backward pass derived on paper and the optimizer
step, float32 throughout. They are the limit an engine built on numpy can reach, timed
beside the engine and PyTorch in benchmarks/run.py (workloads 7, 10 and 11) and checked
against PyTorch's gradients in tests/benchmarks/test_twins.py.

Written the way a careful person writes numpy (no engine, no generated code): arrays
reused where that is free, float32 constants (a numpy float64 scalar would silently turn
a float32 array into float64), x*x*x rather than x**3, and the same formulas as the
engine's rules where a formula is a choice (GELU's Φ and φ come from the one float32
kernel, `autograd.ops.erf.normal_cdf_pdf`, a plain numpy function: a special function, as a
hand-writer would import from scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.ops.erf import normal_cdf_pdf

F32 = np.float32


# ---- pieces shared by the three -------------------------------------------------------------
def softmax_cross_entropy(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits z (N, K) and dL/dz = (softmax(z) - onehot) / N."""
    n = z.shape[0]
    rows = np.arange(n)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) - z[rows, labels]))
    e /= s
    e[rows, labels] -= 1.0
    e *= F32(1.0 / n)
    return loss, e


def conv_patches(x: np.ndarray, k: int, p: int) -> np.ndarray:
    """Stride-1 patches of x (N, C, H, W) padded by p: (N, C·k·k, H'·W'), rows in the
    (c, ki, kj) order of a (O, C, k, k) kernel reshaped to (O, C·k·k)."""
    n, c, h, w = x.shape
    oh, ow = h + 2 * p - k + 1, w + 2 * p - k + 1
    xp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
    xp[:, :, p:p + h, p:p + w] = x
    cols = np.empty((n, c, k, k, oh, ow), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + oh, j:j + ow]
    return cols.reshape(n, c * k * k, oh * ow)


def conv_input_grad(dcols: np.ndarray, shape: tuple[int, ...], k: int, p: int) -> np.ndarray:
    """The adjoint of conv_patches: each patch entry's gradient added back where it came
    from (col2im), k·k strided additions."""
    n, c, h, w = shape
    oh, ow = h + 2 * p - k + 1, w + 2 * p - k + 1
    d = dcols.reshape(n, c, k, k, oh, ow)
    dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + oh, j:j + ow] += d[:, :, i, j]
    return dxp[:, :, p:p + h, p:p + w]


# ---- the digits CNN ----------------------------------------------------------------------------
class DigitsCNN:
    """Conv2d(1,16,3,p1)-BatchNorm2d-ReLU-MaxPool2d(2), Conv2d(16,32,3,p1)-BatchNorm2d-ReLU-
    MaxPool2d(2), Linear(128,10); softmax cross-entropy; SGD. `params` in the order of the
    project's nn.Sequential: conv w, b, bn γ, β, conv w, b, bn γ, β, linear w, b."""

    def __init__(self, params: list[np.ndarray], lr: float, momentum: float = 0.1,
                 eps: float = 1e-5) -> None:
        self.params = [np.array(p, dtype=F32) for p in params]
        self.lr, self.momentum, self.eps = F32(lr), momentum, eps
        self.running = [(np.zeros(16, F32), np.ones(16, F32)), (np.zeros(32, F32),
                                                                   np.ones(32, F32))]

    def _block(self, x: np.ndarray, w: np.ndarray, b: np.ndarray, gamma: np.ndarray,
               beta: np.ndarray, running: tuple[np.ndarray, np.ndarray]) -> tuple[Any, ...]:
        """conv → batch norm → ReLU → 2×2 max pool; returns the output and what backward needs."""
        n = x.shape[0]
        o = w.shape[0]
        cols = conv_patches(x, 3, 1)
        y = np.matmul(w.reshape(o, -1), cols)                  # (N, O, L)
        y += b[:, None]
        # batch norm over (N, L) per channel (sums as products with ones: numpy's
        # reduction over axes (0, 2) is several times slower)
        m = n * y.shape[2]
        ones = np.ones(y.shape[2], dtype=F32)
        mean = (y @ ones).sum(axis=0) / F32(m)
        yc = y - mean[:, None]
        var = ((yc * yc) @ ones).sum(axis=0) / F32(m)
        inv = F32(1.0) / np.sqrt(var + F32(self.eps))
        xhat = yc * inv[:, None]
        h = xhat * gamma[:, None] + beta[:, None]
        rm, rv = running
        rm += F32(self.momentum) * (mean - rm)
        rv += F32(self.momentum) * (var * F32(m / (m - 1)) - rv)
        np.maximum(h, 0, out=h)                                   # ReLU in place
        side = math.isqrt(y.shape[2])
        h4 = h.reshape(n, o, side // 2, 2, side // 2, 2)
        pooled = np.maximum(h4[:, :, :, 0, :, 0], h4[:, :, :, 0, :, 1])
        np.maximum(pooled, h4[:, :, :, 1, :, 0], out=pooled)
        np.maximum(pooled, h4[:, :, :, 1, :, 1], out=pooled)
        return pooled, (x.shape, cols, xhat, inv, h4, pooled, ones)

    def _block_back(self, d: np.ndarray, w: np.ndarray, gamma: np.ndarray,
                    saved: tuple[Any, ...], need_input: bool) -> tuple[Any, ...]:
        shape, cols, xhat, inv, h4, pooled, ones = saved
        n, o = d.shape[:2]
        # max pool: the gradient goes where the window's maximum was (a ReLU zero tie
        # gets 0 from ReLU's mask below); ReLU: where the output was positive
        dh = (h4 == pooled[:, :, :, None, :, None]) & (h4 > 0)
        dh = (dh * d[:, :, :, None, :, None]).reshape(n, o, -1)
        # batch norm: dx = γ/σ (g - mean g - x̂ mean(g x̂))
        m = F32(dh.shape[0] * dh.shape[2])
        dbeta = (dh @ ones).sum(axis=0)
        dgamma = ((dh * xhat) @ ones).sum(axis=0)
        dy = dh - (dbeta / m)[:, None]
        dy -= xhat * (dgamma / m)[:, None]
        dy *= (gamma * inv)[:, None]
        db = (dy @ ones).sum(axis=0)
        dw = np.tensordot(dy, cols, axes=([0, 2], [0, 2])).reshape(w.shape)
        dx = None
        if need_input:
            dcols = np.matmul(w.reshape(o, -1).T, dy)
            dx = conv_input_grad(dcols, shape, 3, 1)
        return dx, dw, db, dgamma, dbeta

    def step(self, x: np.ndarray, labels: np.ndarray) -> float:
        w1, b1, g1, be1, w2, b2, g2, be2, wl, bl = self.params
        a1, s1 = self._block(x, w1, b1, g1, be1, self.running[0])
        a2, s2 = self._block(a1, w2, b2, g2, be2, self.running[1])
        flat = a2.reshape(x.shape[0], -1)
        z = flat @ wl.T
        z += bl
        loss, dz = softmax_cross_entropy(z, labels)
        dwl, dbl = dz.T @ flat, dz.sum(axis=0)
        da2 = (dz @ wl).reshape(a2.shape)
        da1, dw2, db2, dg2, dbe2 = self._block_back(da2, w2, g2, s2, True)
        _, dw1, db1, dg1, dbe1 = self._block_back(da1, w1, g1, s1, False)
        for p, g in zip(self.params, (dw1, db1, dg1, dbe1, dw2, db2, dg2, dbe2, dwl, dbl)):
            p -= self.lr * g
        self.grads = [dw1, db1, dg1, dbe1, dw2, db2, dg2, dbe2, dwl, dbl]
        return loss


# ---- causal self-attention ---------------------------------------------------------------------
def causal_mask(t: int) -> np.ndarray:
    return np.triu(np.full((t, t), -np.inf, dtype=F32), 1)


def attention_forward(x: np.ndarray, w_in: np.ndarray, b_in: np.ndarray, w_out: np.ndarray,
                      b_out: np.ndarray, heads: int,
                      mask: np.ndarray) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Multi-head causal self-attention of x (N, T, E), torch's projection layout."""
    n, t, e = x.shape
    d = e // heads
    x2 = x.reshape(n * t, e)
    qkv = x2 @ w_in.T
    qkv += b_in
    qkv = qkv.reshape(n, t, 3, heads, d).transpose(2, 0, 3, 1, 4)   # (3, N, H, T, d)
    q = qkv[0] * F32(1.0 / math.sqrt(d))                             # scale q: T·d, not T·T
    k, v = qkv[1], qkv[2]
    s = q @ k.swapaxes(-1, -2)                                        # (N, H, T, T)
    s += mask
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s *= F32(1.0) / s.sum(axis=-1, keepdims=True)                      # p, in place
    o = s @ v                                                         # (N, H, T, d)
    y = o.transpose(0, 2, 1, 3).reshape(n * t, e)
    out = y @ w_out.T
    out += b_out
    return out.reshape(n, t, e), (x2, q, k, v, s, o, y)


def attention_backward(g: np.ndarray, w_in: np.ndarray, w_out: np.ndarray, heads: int,
                       saved: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    """(dx, dw_in, db_in, dw_out, db_out) for the output gradient g (N, T, E)."""
    x2, q, k, v, p, o, y = saved
    n, t, e = g.shape
    d = e // heads
    g2 = g.reshape(n * t, e)
    dw_out, db_out = g2.T @ y, g2.sum(axis=0)
    do = (g2 @ w_out).reshape(n, t, heads, d).transpose(0, 2, 1, 3)  # (N, H, T, d)
    dqkv = np.empty((n, t, 3, heads, d), dtype=g.dtype)
    view = dqkv.transpose(2, 0, 3, 1, 4)
    np.matmul(p.swapaxes(-1, -2), do, out=view[2])                    # dv = pᵀ do
    ds = do @ v.swapaxes(-1, -2)                                      # dp = do vᵀ
    # softmax's VJP: ds = p (dp - Σⱼ dp p); Σⱼ dpᵢⱼ pᵢⱼ = doᵢ · Σⱼ pᵢⱼ vⱼ = doᵢ · oᵢ, a
    # pass over (T, d) instead of one over (T, T)
    ds -= (do * o).sum(axis=-1, keepdims=True)
    ds *= p
    scale = F32(1.0 / math.sqrt(d))
    np.matmul(ds, k, out=view[0])
    view[0] *= scale                                                  # dq = ds k × scale
    np.matmul(ds.swapaxes(-1, -2), q, out=view[1])                    # dk = dsᵀ (q × scale)
    dqkv2 = dqkv.reshape(n * t, 3 * e)
    dw_in, db_in = dqkv2.T @ x2, dqkv2.sum(axis=0)
    dx = (dqkv2 @ w_in).reshape(n, t, e)
    return dx, dw_in, db_in, dw_out, db_out


def attention_step(x: np.ndarray, g: np.ndarray, params: list[np.ndarray],
                   heads: int) -> Callable[[], float]:
    """Workload 10's unit of work: forward and backward (no update); returns dw_in[0, 0]."""
    w_in, b_in, w_out, b_out = [np.array(p, dtype=F32) for p in params]
    mask = causal_mask(x.shape[1])

    def step() -> float:
        _, saved = attention_forward(x, w_in, b_in, w_out, b_out, heads, mask)
        grads = attention_backward(g, w_in, w_out, heads, saved)
        step.grads = grads  # type: ignore[attr-defined]
        return float(grads[1][0, 0])

    return step


# ---- the tiny GPT ---------------------------------------------------------------------------------
def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray,
               eps: float = 1e-5) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Over the last axis: x̂ = (x - μ)/√(σ² + ε), y = x̂ w + b."""
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    inv = F32(1.0) / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + F32(eps))
    xc *= inv
    return xc * w + b, (xc, inv, w)


def layer_norm_back(g: np.ndarray, saved: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    """dx = (ĝ - mean ĝ - x̂ mean(ĝ x̂)) / σ with ĝ = g w; dw = Σ g x̂; db = Σ g."""
    xhat, inv, w = saved
    e = xhat.shape[-1]
    lead = tuple(range(g.ndim - 1))
    dw, db = (g * xhat).sum(axis=lead), g.sum(axis=lead)
    gh = g * w
    dx = gh - gh.mean(axis=-1, keepdims=True)
    dx -= xhat * ((gh * xhat).sum(axis=-1, keepdims=True) * F32(1.0 / e))
    dx *= inv
    return dx, dw, db


def gelu(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GELU(h) = h Φ(h) and its derivative Φ(h) + h φ(h), in float32."""
    cdf, pdf = normal_cdf_pdf(h)
    out = (h * cdf).astype(F32)
    pdf *= h
    pdf += cdf
    return out, pdf.astype(F32)


class TinyGPT:
    """demos/tiny_gpt.py's model as arrays: `weights` maps the project's parameter names
    (model.named_parameters()) to arrays. `step` is the demo's train_step: zero the
    gradients, loss, backward, clip the gradients' joint norm, AdamW, then the schedule's
    next learning rate from `lrs`."""

    def __init__(self, weights: dict[str, np.ndarray], n_layer: int, n_head: int,
                 lrs: Callable[[int], float], weight_decay: float, betas: tuple[float, float],
                 eps: float, clip: float) -> None:
        self.w = {k: np.array(v, dtype=F32) for k, v in weights.items()}
        self.n_layer, self.n_head = n_layer, n_head
        self.lrs, self.wd, self.betas, self.eps, self.clip = lrs, weight_decay, betas, eps, clip
        self.m = {k: np.zeros_like(v) for k, v in self.w.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.w.items()}
        self.t = 0
        self.mask = causal_mask(int(self.w["pos.w"].shape[0]))

    def loss_and_grads(self, idx: np.ndarray, targets: np.ndarray) -> tuple[float, dict]:
        w = self.w
        n, t = idx.shape
        e = w["tok.w"].shape[1]
        mask = self.mask[:t, :t]
        x = w["tok.w"][idx] + w["pos.w"][:t]
        saved = []
        for i in range(self.n_layer):
            p = f"blocks.{i}."
            h1, s_ln1 = layer_norm(x, w[p + "ln_1.w"], w[p + "ln_1.b"])
            a, s_att = attention_forward(h1, w[p + "attn.w_in"], w[p + "attn.b_in"],
                                         w[p + "attn.w_out"], w[p + "attn.b_out"],
                                         self.n_head, mask)
            x = x + a
            h2, s_ln2 = layer_norm(x, w[p + "ln_2.w"], w[p + "ln_2.b"])
            h2 = h2.reshape(n * t, e)
            f = h2 @ w[p + "fc.w"].T
            f += w[p + "fc.b"]
            gl, dgl = gelu(f)
            m = gl @ w[p + "proj.w"].T
            m += w[p + "proj.b"]
            x = x + m.reshape(n, t, e)
            saved.append((s_ln1, s_att, s_ln2, h2, dgl, gl))
        hf, s_lnf = layer_norm(x, w["ln_f.w"], w["ln_f.b"])
        hf = hf.reshape(n * t, e)
        z = hf @ w["head.w"].T
        z += w["head.b"]
        loss, dz = softmax_cross_entropy(z, targets.reshape(-1))
        grads: dict[str, np.ndarray] = {"head.w": dz.T @ hf, "head.b": dz.sum(axis=0)}
        dx, grads["ln_f.w"], grads["ln_f.b"] = layer_norm_back(
            (dz @ w["head.w"]).reshape(n, t, e), s_lnf)
        for i in reversed(range(self.n_layer)):
            p = f"blocks.{i}."
            s_ln1, s_att, s_ln2, h2, dgl, gl = saved[i]
            dm = dx.reshape(n * t, e)
            grads[p + "proj.w"], grads[p + "proj.b"] = dm.T @ gl, dm.sum(axis=0)
            df = dm @ w[p + "proj.w"]
            df *= dgl
            grads[p + "fc.w"], grads[p + "fc.b"] = df.T @ h2, df.sum(axis=0)
            dh2 = (df @ w[p + "fc.w"]).reshape(n, t, e)
            dln, grads[p + "ln_2.w"], grads[p + "ln_2.b"] = layer_norm_back(dh2, s_ln2)
            dx = dx + dln
            dh1, *att = attention_backward(dx, w[p + "attn.w_in"], w[p + "attn.w_out"],
                                           self.n_head, s_att)
            for name, g in zip(("w_in", "b_in", "w_out", "b_out"), att):
                grads[p + "attn." + name] = g
            dln, grads[p + "ln_1.w"], grads[p + "ln_1.b"] = layer_norm_back(dh1, s_ln1)
            dx = dx + dln
        dtok = np.zeros_like(w["tok.w"])
        np.add.at(dtok, idx.reshape(-1), dx.reshape(n * t, e))
        grads["tok.w"] = dtok
        dpos = np.zeros_like(w["pos.w"])
        dpos[:t] = dx.sum(axis=0)
        grads["pos.w"] = dpos
        return loss, grads

    def step(self, idx: np.ndarray, targets: np.ndarray) -> float:
        loss, grads = self.loss_and_grads(idx, targets)
        self.grads = grads
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values()))
        coef = self.clip / (total + 1e-6)
        self.t += 1
        lr = self.lrs(self.t - 1)
        b1, b2 = self.betas
        bc1, bc2 = 1.0 - b1 ** self.t, math.sqrt(1.0 - b2 ** self.t)
        for k, p in self.w.items():
            g = grads[k]
            if coef < 1.0:
                g *= F32(coef)
            if p.ndim >= 2:
                p *= F32(1.0 - lr * self.wd)
            m, v = self.m[k], self.v[k]
            m += F32(1.0 - b1) * (g - m)
            v *= F32(b2)
            v += F32(1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom *= F32(1.0 / bc2)
            denom += F32(self.eps)
            p -= F32(lr / bc1) * (m / denom)
        return loss
