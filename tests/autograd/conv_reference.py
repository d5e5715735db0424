"""Convolution and pooling written the slow, obvious way (a loop over every output
element), as references for autograd.conv's fast im2col versions. 1-D inputs are treated as
2-D of height 1."""

from __future__ import annotations

from typing import Any

import numpy as np


def _as2d(a: np.ndarray) -> np.ndarray:
    return a[:, :, None, :] if a.ndim == 3 else a


def _pair(v: Any) -> tuple[int, int]:
    return (1, v[0]) if len(v) == 1 else tuple(v)


def _pad_pair(v: Any) -> tuple[int, int]:
    return (0, v[0]) if len(v) == 1 else tuple(v)


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: Any = (1,),
         padding: Any = (0,)) -> np.ndarray:
    nd = x.ndim
    x, w = _as2d(x), _as2d(w)
    (sh, sw), (ph, pw) = _pair(stride), _pad_pair(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, hp, wp = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    if b is not None:
        out += b[:, None, None]
    return out[:, :, 0, :] if nd == 3 else out


def conv_transpose(g: np.ndarray, w: np.ndarray, stride: Any, padding: Any,
                   size: Any) -> np.ndarray:
    """The x-shaped array whose inner product with conv(·, w) is <g, conv(·, w)>."""
    nd = g.ndim
    g, w = _as2d(g), _as2d(w)
    (sh, sw), (ph, pw) = _pair(stride), _pad_pair(padding)
    size = (1, size[0]) if len(size) == 1 else tuple(size)
    n, _, oh, ow = g.shape
    _, c, kh, kw = w.shape
    xp = np.zeros((n, c, size[0] + 2 * ph, size[1] + 2 * pw))
    for i in range(oh):
        for j in range(ow):
            xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.einsum("no,ockl->nckl",
                                                                          g[:, :, i, j], w)
    out = xp[:, :, ph:ph + size[0], pw:pw + size[1]]
    return out[:, :, 0, :] if nd == 3 else out


def conv_weight(x: np.ndarray, g: np.ndarray, stride: Any, padding: Any,
                ksize: Any) -> np.ndarray:
    nd = x.ndim
    x, g = _as2d(x), _as2d(g)
    (sh, sw), (ph, pw) = _pair(stride), _pad_pair(padding)
    kh, kw = (1, ksize[0]) if len(ksize) == 1 else tuple(ksize)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    _, o, oh, ow = g.shape
    out = np.zeros((o, x.shape[1], kh, kw))
    for i in range(oh):
        for j in range(ow):
            out += np.einsum("no,nckl->ockl", g[:, :, i, j],
                             xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out[:, :, 0, :] if nd == 3 else out


def _windows(x: np.ndarray, ksize: Any, stride: Any):
    nd = x.ndim
    x = _as2d(x)
    (kh, kw), (sh, sw) = _pair(ksize), _pair(stride)
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    for i in range(oh):
        for j in range(ow):
            yield nd, (i, j), (slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)), x


def pool(x: np.ndarray, ksize: Any, stride: Any, reduce: Any) -> np.ndarray:
    n, c = x.shape[:2]
    cells = list(_windows(x, ksize, stride))
    oh, ow = cells[-1][1][0] + 1, cells[-1][1][1] + 1
    out = np.zeros((n, c, oh, ow))
    for nd, (i, j), (rs, cs), x2 in cells:
        out[:, :, i, j] = reduce(x2[:, :, rs, cs].reshape(n, c, -1), axis=-1)
    return out[:, :, 0, :] if x.ndim == 3 else out


def pool_scatter(g: np.ndarray, index: np.ndarray, shape: Any, ksize: Any,
                 stride: Any) -> np.ndarray:
    """g[n, c, i, j] added at entry index[n, c, i, j] (row-major) of window (i, j)."""
    nd = g.ndim
    g2, idx = _as2d(g), _as2d(index)
    out = np.zeros(_as2d(np.zeros(shape)).shape)
    kw, (sh, sw) = _pair(ksize)[1], _pair(stride)
    for n, c, i, j in np.ndindex(*g2.shape):
        r, s = divmod(int(idx[n, c, i, j]), kw)
        out[n, c, i * sh + r, j * sw + s] += g2[n, c, i, j]
    return out[:, :, 0, :] if nd == 3 else out


def pool_gather(h: np.ndarray, index: np.ndarray, shape: Any, ksize: Any,
                stride: Any) -> np.ndarray:
    nd = h.ndim
    h2, idx = _as2d(h), _as2d(index)
    kw, (sh, sw) = _pair(ksize)[1], _pair(stride)
    out = np.zeros(idx.shape)
    for n, c, i, j in np.ndindex(*idx.shape):
        r, s = divmod(int(idx[n, c, i, j]), kw)
        out[n, c, i, j] = h2[n, c, i * sh + r, j * sw + s]
    return out[:, :, 0, :] if nd == 3 else out
