"""Where the time of one tiny-GPT training step goes (demos/tiny_gpt.py's default model).

    .venv/bin/python benchmarks/profile_gpt.py [--steps 5] [--n-embd 128] [--n-layer 4]

Forward: each leaf layer's call is timed (layer norm, attention, MLP linears, GELU, ...).
Backward: each node's chain-rule step (`engine.input_grads`) is timed and charged to the
layer that made the node and to its op (the attention's products, its softmax, ...).
What is left of the step is the engine's own bookkeeping (graph walk, gradient sums) and
Python glue. One BLAS thread, float32.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import collections
import importlib.util
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np

import nn
from autograd import Value, engine

spec = importlib.util.spec_from_file_location("tiny_gpt", os.path.join(ROOT, "demos",
                                                                      "tiny_gpt.py"))
gpt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpt)

TIMES: collections.Counter = collections.Counter()
TAG: dict[int, str] = {}  # node id → the layer that made it


def _layer_name(module: Any, model: Any) -> str:
    if isinstance(module, nn.Linear):
        return "head (linear)" if module is model.head else "MLP linears"
    return {nn.LayerNorm: "layer norm", nn.MultiheadAttention: "attention",
            nn.GELU: "GELU", nn.Embedding: "embeddings"}[type(module)]


def _tag(out: Value, inputs: tuple, name: str) -> None:
    """Charge every node made by this call (back from `out` to the call's inputs) to name."""
    stop = {id(x) for x in inputs if isinstance(x, Value)}
    stack = [out]
    while stack:
        v = stack.pop()
        if id(v) in TAG or id(v) in stop or not v.op:
            continue
        TAG[id(v)] = name
        stack.extend(v.parents)


def instrument(model: Any) -> None:
    for m in model.modules():
        if not isinstance(m, nn.Linear | nn.LayerNorm | nn.MultiheadAttention | nn.GELU
                          | nn.Embedding):
            continue
        name, forward = _layer_name(m, model), m.forward

        def timed(*args: Any, _f: Any = forward, _n: str = name, **kw: Any) -> Any:
            t0 = time.perf_counter()
            out = _f(*args, **kw)
            TIMES[("forward", _n)] += time.perf_counter() - t0
            _tag(out, args, _n)
            return out
        m.forward = timed
    plain = engine.input_grads

    def timed_vjp(node: Value, g: Any, create_graph: bool = False) -> Any:
        t0 = time.perf_counter()
        out = plain(node, g, create_graph)
        layer = TAG.get(id(node), "residual adds, loss")
        op = node.op if layer == "attention" else ""
        TIMES[("backward", f"{layer} {op}".strip())] += time.perf_counter() - t0
        return out
    engine.input_grads = timed_vjp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=5)
    for k, v in gpt.MODEL_ARGS.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=int, default=v)
    recipe = gpt.parse([])  # the demo's defaults: batch, AdamW, clipping, schedule
    ap.add_argument("--batch-size", type=int, default=recipe.batch_size)
    args = ap.parse_args(argv)
    text = gpt.load_text()
    chars = "".join(sorted(set(text)))
    train, _ = gpt.split(gpt.encode(text, chars))
    cfg = {k: getattr(args, k) for k in gpt.MODEL_ARGS}
    model = gpt.TinyGPT(chars, **cfg, seed=0, dtype="float32")
    opt, sched = gpt.make_optimizer(model, recipe)
    rng = np.random.default_rng(0)
    x, y = gpt.random_batch(train, args.batch_size, model.block_size, rng)
    gpt.train_step(model, opt, sched, x, y, recipe.clip)  # warm-up, uninstrumented
    instrument(model)
    total = 0.0
    for _ in range(args.steps):
        TAG.clear()
        t0 = time.perf_counter()
        opt.zero_grad()
        t1 = time.perf_counter()
        loss = model.loss(x, y)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        nn.clip_grad_norm_(model.parameters(), recipe.clip)
        t4 = time.perf_counter()
        opt.step()
        sched.step()
        t5 = time.perf_counter()
        TIMES[("step", "forward (all)")] += t2 - t1
        TIMES[("step", "backward (all)")] += t3 - t2
        TIMES[("step", "clip_grad_norm_")] += t4 - t3
        TIMES[("step", "AdamW + schedule, zero_grad")] += t5 - t4 + t1 - t0
        total += t5 - t0
    per = total / args.steps
    print(f"Tiny GPT {cfg}, batch {args.batch_size}, float32: {per * 1e3:.0f} ms per "
          f"training step (mean of {args.steps})")
    for phase in ("forward", "backward", "step"):
        rows = sorted(((k[1], v) for k, v in TIMES.items() if k[0] == phase),
                      key=lambda r: -r[1])
        if phase != "step":
            spent = sum(v for _, v in rows)
            whole = TIMES[("step", f"{phase} (all)")]
            rows.append((f"engine bookkeeping, Python glue (rest of the {phase})",
                         whole - spent))
        print(f"\n{phase}:")
        for name, v in rows:
            print(f"  {name:<58} {v / args.steps * 1e3:8.1f} ms  {v / total:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
