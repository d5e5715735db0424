"""Function transforms, as ``torch.func``: grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, vmap, functional_call.

A transform takes a function of Values and returns a function. Each call runs the function
on inputs of its own (new nodes standing for the arguments: a Value argument's new node
is computed from it, so an outer transform still sees the path), with recording on, and
then differentiates the recorded graph:

- reverse mode (`grad`, `vjp`, `jacrev`): the engine's `grad(..., create_graph=True)`, one
  reverse pass per output direction;
- forward mode (`jvp`, `jacfwd`): `forward.push_tangents`, one forward sweep per input
  direction, each node's tangent beside its value (dual numbers);
- `vmap`: `batching.py`, each op run once on the whole batch.

Results are Values whose graph leads back to the arguments, so transforms compose to any
depth (``jacfwd(jacrev(f))``, ``vmap(grad(f))``, ``grad(grad(f))``); they work inside
`no_grad()` and touch no ``.grad``. Arguments and results may be nested tuples, lists and
dicts of Values ("pytrees", as in torch.func).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import engine
from .batching import ones_like
from .engine import Value, enable_grad
from .forward import as_tangent, push_tangents

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp", "vmap"]

Argnums = int | tuple[int, ...]


# ---- pytrees: nested tuples, lists and dicts with Values (or numbers, arrays) as leaves -----
def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """(leaves, spec): the leaves in order, and what `tree_unflatten` needs to rebuild."""
    if isinstance(tree, tuple | list):
        leaves, specs = [], []
        for item in tree:
            sub, spec = tree_flatten(item)
            leaves.extend(sub)
            specs.append((len(sub), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, spec = tree_flatten(list(tree.values()))
        return leaves, (dict, (list(tree.keys()), spec))
    return [tree], None


def tree_unflatten(leaves: list[Any], spec: Any) -> Any:
    if spec is None:
        return leaves[0]
    kind, specs = spec
    if kind is dict:
        keys, inner = specs
        return dict(zip(keys, tree_unflatten(leaves, inner)))
    out, start = [], 0
    for n, sub in specs:
        out.append(tree_unflatten(leaves[start:start + n], sub))
        start += n
    return tuple(out) if kind is tuple else out


def _as_value(x: Any) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool | int | float | np.ndarray | np.generic | list):
        return Value(x, requires_grad=False)
    raise TypeError(f"func transforms take Values, numbers or arrays (or tuples, lists and "
                    f"dicts of them), got {type(x).__name__}")


def fresh(x: Any) -> Value:
    """This transform's own node for argument x: a new leaf for data, or a node computed
    from a Value (x + 0), so x's graph, and any outer transform's, is kept."""
    v = _as_value(x)
    if v.requires_grad:
        return v + 0.0
    return Value(v.data, requires_grad=True)


def _argnums(argnums: Argnums, n: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}: argnums must name at least one argument")
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"{name}: argnums {argnums!r} is out of range for a function "
                             f"called with {n} positional arguments")
    return tuple(a % n for a in nums)


def _replace_args(args: tuple[Any, ...], nums: tuple[int, ...]) -> tuple[list[Any], list[Any], list[Any]]:
    """New arguments with fresh nodes at `nums`; the fresh leaves and specs per argnum."""
    new = list(args)
    leaves_per, specs = [], []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        mine = [fresh(x) for x in leaves]
        new[a] = tree_unflatten(mine, spec)
        leaves_per.append(mine)
        specs.append(spec)
    return new, leaves_per, specs


def _split_aux(out: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise ValueError(f"{name}(has_aux=True): the function must return a pair "
                         f"(output, aux), got {type(out).__name__}")
    return out


def _scalar_output(out: Any, name: str) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"{name}: the function must return a Value, got {type(out).__name__}")
    if out.size != 1:
        raise ValueError(f"{name}: the function must return a single number (a Value of one "
                         f"element), got shape {out.shape}; use jacrev or vjp for others")
    return out


# ---- reverse mode ----------------------------------------------------------------------------
def grad_and_value(f: Callable[..., Any], argnums: Argnums = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """``(grad, value)`` of a function returning one number (with has_aux: ``(grad, (value,
    aux))``); grad is shaped as the argument(s) `argnums` (an int: that argument's structure;
    a tuple: a tuple of them)."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "grad")
        with enable_grad():
            new, leaves_per, specs = _replace_args(args, nums)
            out, aux = _split_aux(f(*new, **kwargs), has_aux, "grad")
            out = _scalar_output(out, "grad")
            flat = [x for leaves in leaves_per for x in leaves]
            grads = list(engine.grad(out, flat, gradient=ones_like(out), create_graph=True))
        result, start = [], 0
        for leaves, spec in zip(leaves_per, specs):
            result.append(tree_unflatten(grads[start:start + len(leaves)], spec))
            start += len(leaves)
        g = result[0] if isinstance(argnums, int) else tuple(result)
        return (g, (out, aux)) if has_aux else (g, out)
    return wrapper


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a function returning one number, shaped as its argument(s)
    (`argnums`); with has_aux the function returns ``(value, aux)`` and this ``(grad, aux)``."""
    gv = grad_and_value(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(output, vjp_fn)`` (and aux): ``vjp_fn(cotangents)`` gives, for each primal, the
    cotangent pulled back, uᵀJ, as a tuple (one reverse pass per call)."""
    with enable_grad():
        new, leaves_per, specs = _replace_args(primals, tuple(range(len(primals))))
        out, aux = _split_aux(f(*new), has_aux, "vjp")
    outs, _out_spec = tree_flatten(out)
    for o in outs:
        if not isinstance(o, Value):
            raise TypeError(f"vjp: the function must return Values, got {type(o).__name__}")
    flat = [x for leaves in leaves_per for x in leaves]

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        cts, _ = tree_flatten(cotangents)
        if len(cts) != len(outs):
            raise ValueError(f"vjp_fn: expected {len(outs)} cotangents (one per output), "
                             f"got {len(cts)}")
        with enable_grad():
            cts = [as_tangent(c, o) for c, o in zip(cts, outs)]
            if len(outs) == 1:
                grads = engine.grad(outs[0], flat, gradient=cts[0], create_graph=True)
            else:  # several outputs: the pullback of Σₖ ⟨uₖ, outₖ⟩
                total = None
                for o, c in zip(outs, cts):
                    term = (o * c).sum()
                    total = term if total is None else total + term
                grads = engine.grad(total, flat, create_graph=True)
        result, start = [], 0
        for leaves, spec in zip(leaves_per, specs):
            result.append(tree_unflatten(list(grads[start:start + len(leaves)]), spec))
            start += len(leaves)
        return tuple(result)

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


# ---- forward mode ------------------------------------------------------------------------------
def jvp(f: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...],
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(output, J·tangents)`` (and aux), in forward mode: one sweep of the recorded graph
    carrying each node's tangent beside its value; no reverse pass."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    with enable_grad():
        new, leaves_per, _ = _replace_args(primals, tuple(range(len(primals))))
        seeds: dict[Value, Any] = {}
        for leaves, t in zip(leaves_per, tangents):
            ts, _ = tree_flatten(t)
            if len(ts) != len(leaves):
                raise ValueError("jvp: each tangent must have its primal's structure")
            for x, tx in zip(leaves, ts):
                seeds[x] = as_tangent(tx, x)
        out, aux = _split_aux(f(*new), has_aux, "jvp")
        outs, spec = tree_flatten(out)
        tangents_out = push_tangents([_as_value(o) for o in outs], seeds)
    result = (out, tree_unflatten(tangents_out, spec))
    return (*result, aux) if has_aux else result


# ---- Jacobians and Hessians ------------------------------------------------------------------
def _basis(shape: tuple[int, ...], dtype: Any) -> Iterator[Any]:
    """The unit vectors of a space of `shape`, one at a time (a float for a scalar)."""
    n = int(np.prod(shape))
    for k in range(n):
        e = np.zeros(n, dtype=dtype)
        e[k] = 1.0
        yield float(e[0]) if not shape else e.reshape(shape)


def _gather(parts: list[Value], shape: tuple[int, ...]) -> Value:
    from .ops.functions import stack
    return stack(parts).reshape(shape)


def jacrev(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian by reverse mode: one reverse pass per output element; shaped
    output.shape + input.shape (a tuple over argnums when argnums is a tuple)."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacrev")

        def g(*chosen: Any) -> Any:
            full = list(args)
            for a, c in zip(nums, chosen):
                full[a] = c
            return f(*full, **kwargs)

        with enable_grad():
            result = vjp(g, *[args[a] for a in nums], has_aux=has_aux)
            out, pull = result[0], result[1]
            if not isinstance(out, Value):
                raise TypeError(f"jacrev: the function must return a Value, got "
                                f"{type(out).__name__}")
            ins = [_as_value(args[a]) for a in nums]
            rows = [pull(e) for e in _basis(out.shape, out.dtype)]  # each a tuple over nums
            jacs = tuple(_gather([r[i] for r in rows], out.shape + x.shape)
                         for i, x in enumerate(ins))
        jac = jacs[0] if isinstance(argnums, int) else jacs
        return (jac, result[2]) if has_aux else jac
    return wrapper


def jacfwd(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian by forward mode: one forward sweep per input element; shaped
    output.shape + input.shape, as jacrev."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacfwd")
        with enable_grad():
            new, leaves_per, _ = _replace_args(args, nums)
            ins = [leaves[0] for leaves in leaves_per]
            for leaves in leaves_per:
                if len(leaves) != 1:
                    raise TypeError("jacfwd: each differentiated argument must be one Value")
            out, aux = _split_aux(f(*new, **kwargs), has_aux, "jacfwd")
            if not isinstance(out, Value):
                raise TypeError(f"jacfwd: the function must return a Value, got "
                                f"{type(out).__name__}")
            jacs = []
            for x in ins:
                cols = [push_tangents([out], {x: e})[0]
                        for e in _basis(x.shape, x.dtype)]  # one sweep per direction
                from .ops.functions import stack
                col = stack(cols, axis=out.ndim)  # output.shape + (n,)
                jacs.append(col.reshape(out.shape + x.shape))
        jac = jacs[0] if isinstance(argnums, int) else tuple(jacs)
        return (jac, aux) if has_aux else jac
    return wrapper


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The Hessian, as torch.func: jacfwd(jacrev(f)) (forward over reverse)."""
    return jacfwd(jacrev(f, argnums), argnums)


# ---- modules as functions ---------------------------------------------------------------------
def _slot(module: Any, dotted: str) -> tuple[Any, Any]:
    """(container, key) holding the parameter `dotted` (``fc1.w``, ``layers.0.b``)."""
    parts = dotted.split(".")
    obj: Any = module
    for p in parts[:-1]:
        obj = obj[int(p)] if isinstance(obj, list | tuple) else (
            obj[p] if isinstance(obj, dict) else getattr(obj, p))
    return obj, parts[-1]


@contextlib.contextmanager
def _swapped(module: Any, values: dict[str, Any]) -> Iterator[None]:
    known = dict(module.named_parameters())
    saved = []
    try:
        for name, v in values.items():
            if name not in known:
                raise KeyError(f"functional_call: the module has no parameter {name!r}; it has "
                               f"{sorted(known)}")
            owner, key = _slot(module, name)
            if isinstance(owner, list):
                saved.append((owner, key, owner[int(key)]))
                owner[int(key)] = v
            elif isinstance(owner, dict):
                saved.append((owner, key, owner[key]))
                owner[key] = v
            else:
                saved.append((owner, key, getattr(owner, key)))
                object.__setattr__(owner, key, v)  # (no relabelling: the tree is the same)
        yield
    finally:
        for owner, key, old in reversed(saved):
            if isinstance(owner, list):
                owner[int(key)] = old
            elif isinstance(owner, dict):
                owner[key] = old
            else:
                object.__setattr__(owner, key, old)


def functional_call(module: Any, params: dict[str, Any] | tuple[dict[str, Any], ...],
                    args: Any = (), kwargs: dict[str, Any] | None = None) -> Any:
    """Call `module` with the given parameters (a dict name → Value, or a tuple of dicts)
    in place of its own, which are put back afterwards, as torch.func.functional_call."""
    if isinstance(params, tuple):
        merged: dict[str, Any] = {}
        for d in params:
            merged.update(d)
        params = merged
    values = {k: _as_value(v) for k, v in params.items()}
    if not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, values):
        return module(*args, **(kwargs or {}))


def vmap(f: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0,
         randomness: str = "error", chunk_size: int | None = None) -> Callable[..., Any]:
    """f mapped over a batch axis of its arguments (`in_dims`: an int, None for an argument
    not batched, or one entry per argument), each op run once on the whole batch."""
    from .batching import vmap as _vmap
    return _vmap(f, in_dims, out_dims)
