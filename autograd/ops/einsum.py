"""`autograd.einsum(subscripts, *operands)`: Einstein summation, as torch.einsum and
np.einsum (explicit ``->`` output or numpy's implicit one, ``...`` for leading axes).

The result is multilinear in the operands, so operand i's gradient is one more einsum: g
(indexed by the output's letters) against the other operands, summed to operand i's
letters — ``ij,jk->ik`` gives ``ik,jk->ij`` for the first operand, as g @ Bᵀ. A letter only
operand i has (summed away in the forward) gets g broadcast along it. The JVP for operand i
is the einsum itself with the tangent in operand i's place.

Contraction order: numpy's ``optimize=True`` (its greedy path search, opt_einsum's
algorithm) on every call; measured in docs/torch-api.md against a fixed left-to-right order.
"""

from __future__ import annotations

import functools
import string
from typing import Any

import numpy as np

from ..engine import OPS, Value, apply, defop
from ._common import _data, _shape
from .functions import _operand, _PerInput


def _einsum(*ops: Any, spec: str) -> Any:
    return np.einsum(spec, *ops, optimize=len(ops) > 2)


def einsum_any(spec: str, *ops: Any) -> Any:
    if any(isinstance(x, Value) for x in ops):
        return apply(EINSUM, *ops, spec=spec)
    return np.einsum(spec, *ops, optimize=len(ops) > 2)


def _einsum_vjp(i: int, g: Any, ans: Any, *ops: Any, spec: str) -> Any:
    """g against the other operands, summed to operand i's letters; broadcast along the
    letters only operand i has."""
    ins, out = spec.split("->")
    subs = ins.split(",")
    mine = subs[i]
    elsewhere = set(out).union(*[set(s) for j, s in enumerate(subs) if j != i])
    kept = "".join(c for c in mine if c in elsewhere)
    others = [s for j, s in enumerate(subs) if j != i]
    grad = einsum_any(",".join([out, *others]) + "->" + kept, g,
                      *[x for j, x in enumerate(ops) if j != i])
    if kept == mine:
        return grad
    shape = _shape(ops[i])
    grad = grad.reshape(tuple(n if c in elsewhere else 1 for c, n in zip(mine, shape)))
    return grad.broadcast_to(shape) if isinstance(grad, Value) else np.broadcast_to(grad, shape)


def _einsum_jvp(i: int, t: Any, ans: Any, *ops: Any, spec: str) -> Any:
    return einsum_any(spec, *[t if j == i else x for j, x in enumerate(ops)])


EINSUM = defop("einsum", _einsum)
OPS["einsum"] = EINSUM = EINSUM._replace(vjps=_PerInput(_einsum_vjp),
                                         jvp=_PerInput(_einsum_jvp))


@functools.lru_cache(maxsize=256)
def _explicit(subscripts: str, ndims: tuple[int, ...]) -> str:
    """The subscripts with `...` written out as letters and the output made explicit
    (numpy's implicit rule: the letters that occur once, in alphabetical order, after the
    ellipsis' axes)."""
    s = subscripts.replace(" ", "")
    ins, arrow, out = s.partition("->")
    subs = ins.split(",")
    if len(subs) != len(ndims):
        raise ValueError(f"einsum: the subscripts name {len(subs)} operand(s), got "
                         f"{len(ndims)}")
    used = set(s.replace(".", "").replace(",", "").replace("-", "").replace(">", ""))
    for c in used:
        if c not in string.ascii_letters:
            raise ValueError(f"einsum: subscripts are letters, got {c!r} in {subscripts!r}")
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max((nd - len(sub.replace("...", "")) for sub, nd in zip(subs, ndims)
                 if "..." in sub), default=0)
    ell = "".join(free[:n_ell])
    full = []
    for sub, nd in zip(subs, ndims):
        if "..." in sub:
            k = nd - len(sub.replace("...", ""))
            sub = sub.replace("...", ell[n_ell - k:] if k else "")
        if len(sub) != nd:
            raise ValueError(f"einsum: operand subscripts {sub!r} name {len(sub)} axes, the "
                             f"operand has {nd}")
        if len(set(sub)) != len(sub):
            raise ValueError(f"einsum: a letter repeated within one operand ({sub!r}, a "
                             "diagonal) is not supported; take the diagonal first")
        full.append(sub)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(full)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    for c in out:
        if c not in "".join(full):
            raise ValueError(f"einsum: output letter {c!r} is in no operand")
    return ",".join(full) + "->" + out


def einsum(subscripts: str, *operands: Any) -> Value:
    """Einstein summation over Values, numbers or arrays (torch.einsum / np.einsum)."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum needs at least one operand")
    ops = [_operand(x, "einsum") for x in operands]
    spec = _explicit(subscripts, tuple(np.ndim(_data(x)) for x in ops))
    if not any(isinstance(x, Value) for x in ops):
        ops[0] = Value(_data(ops[0]))
    return apply(EINSUM, *ops, spec=spec)
