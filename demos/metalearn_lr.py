"""Learn SGD's learning rate by differentiating through training (MNIST-1D).

    python demos/metalearn_lr.py                      # 40 meta-steps of K = 10 SGD steps
    python demos/metalearn_lr.py --meta-steps 5 --unroll 5 --check   # and compare with torch

The MNIST-1D repository's "metalearn a learning rate" experiment: an MLP is trained by
plain SGD, ``θ ← θ - η ∇L_train(θ)``, and the learning rate η itself is learned. One
meta-step unrolls K SGD steps from the current weights, measures the validation loss of the
weights they reach, and differentiates that loss with respect to log η *through all K
steps* (each step's gradient is itself a function of η, so this is a derivative of
derivatives: ``func.grad`` of a function that calls ``func.grad``). Then log η takes an
Adam step against its hypergradient, and training goes on from the K-th weights.

``--check`` computes the first hypergradient again with PyTorch (``torch.func.grad``
through the same unrolled steps, same weights, same batches, float64) and exits non-zero
unless the two agree to 1e-8 (relative).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # (this folder has mnist1d.py)

from autograd import Value, func, no_grad

HIDDEN = 64


def load_data() -> dict[str, np.ndarray]:
    """MNIST-1D, generated locally (no download), in float64."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise SystemExit("this demo needs the mnist1d package: pip install -e '.[demos]'") from None
    d = make_dataset(get_dataset_args())
    return {"x": d["x"].astype(np.float64), "y": d["y"].astype(np.int64),
            "x_test": d["x_test"].astype(np.float64), "y_test": d["y_test"].astype(np.int64)}


def init(seed: int) -> list[np.ndarray]:
    """An MLP 40 → 64 → 10 (tanh), PyTorch's default initialisation."""
    rng = np.random.default_rng(seed)
    b1, b2 = 1 / math.sqrt(40), 1 / math.sqrt(HIDDEN)
    return [rng.uniform(-b1, b1, (HIDDEN, 40)), rng.uniform(-b1, b1, HIDDEN),
            rng.uniform(-b2, b2, (10, HIDDEN)), rng.uniform(-b2, b2, 10)]


def loss(params: list[Any], x: Any, onehot: Any) -> Any:
    """Mean cross-entropy of the MLP's logits (Values here; tensors in the torch check)."""
    w1, b1, w2, b2 = params
    z = (x @ w1.T + b1).tanh() @ w2.T + b2
    if isinstance(z, Value):
        return -(z.log_softmax(axis=-1) * onehot).sum() * (1.0 / len(onehot))
    import torch
    return -(torch.log_softmax(z, -1) * onehot).sum() / len(onehot)


def batches(data: dict[str, np.ndarray], start: int, k: int, size: int) -> list[tuple]:
    """K training batches in the data's fixed order, from batch number `start`."""
    n = len(data["x"])
    out = []
    for step in range(start, start + k):
        rows = (np.arange(size) + step * size) % n
        out.append((data["x"][rows], np.eye(10)[data["y"][rows]]))
    return out


def unrolled(log_lr: Any, params: list[Any], steps: list[tuple], val: tuple) -> Any:
    """The validation loss after K SGD steps at lr = e^log_lr, as a function of log_lr."""
    lr = log_lr.exp()
    for x, y in steps:
        grads = func.grad(loss)(params, Value(x), Value(y))
        params = [p - lr * g for p, g in zip(params, grads)]
    return loss(params, Value(val[0]), Value(val[1]))


def unrolled_torch(torch: Any, log_lr: Any, params: list[Any], steps: list[tuple],
                   val: tuple) -> Any:
    lr = log_lr.exp()
    for x, y in steps:
        grads = torch.func.grad(loss)(params, torch.tensor(x), torch.tensor(y))
        params = [p - lr * g for p, g in zip(params, grads)]
    return loss(params, torch.tensor(val[0]), torch.tensor(val[1]))


def torch_hypergradient(params: list[np.ndarray], log_lr: float, steps: list[tuple],
                        val: tuple) -> float:
    import torch
    tp = [torch.tensor(p, dtype=torch.float64) for p in params]
    f = torch.func.grad(lambda lg: unrolled_torch(torch, lg, tp, steps, val))
    return float(f(torch.tensor(log_lr, dtype=torch.float64)))


def accuracy(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    w1, b1, w2, b2 = params
    z = np.tanh(x @ w1.T + b1) @ w2.T + b2
    return float((z.argmax(axis=1) == y).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                 epilog="Time: about a minute with the defaults.")
    ap.add_argument("--meta-steps", type=int, default=40, help="how many learning-rate updates")
    ap.add_argument("--unroll", type=int, default=10, help="K: SGD steps per meta-step")
    ap.add_argument("--batch", type=int, default=100, help="training sequences per SGD step")
    ap.add_argument("--lr", type=float, default=0.01, help="the starting learning rate")
    ap.add_argument("--meta-lr", type=float, default=0.1, help="Adam's step size for log lr")
    ap.add_argument("--seed", type=int, default=0, help="the initial weights' seed")
    ap.add_argument("--check", action="store_true",
                    help="compare the first hypergradient with torch.func's (float64, 1e-8)")
    args = ap.parse_args(argv)
    data = load_data()
    params = init(args.seed)
    log_lr = math.log(args.lr)
    val_rows = np.arange(500)
    val = (data["x_test"][val_rows], np.eye(10)[data["y_test"][val_rows]])
    print(f"MNIST-1D: {len(data['x'])} training sequences; MLP 40→{HIDDEN}→10; "
          f"K = {args.unroll} unrolled SGD steps per meta-step; validation on 500 sequences")
    print(f"{'meta-step':>9} {'lr':>9} {'val loss':>9} {'hypergrad':>11} {'test acc':>8}")
    first_ok = True
    m = v = 0.0  # the meta-optimizer's (Adam's) moments
    for meta in range(args.meta_steps):
        steps = batches(data, meta * args.unroll, args.unroll, args.batch)
        weights = [Value(p) for p in params]
        hyper, value = func.grad_and_value(unrolled)(Value(log_lr), weights, steps, val)
        h = float(hyper.data)
        if meta == 0 and args.check:
            theirs = torch_hypergradient(params, log_lr, steps, val)
            rel = abs(h - theirs) / max(abs(theirs), 1e-300)
            first_ok = rel <= 1e-8
            print(f"first hypergradient d(val loss)/d(log lr): ours {h:.12g}, "
                  f"torch.func {theirs:.12g}, relative difference {rel:.2e} "
                  f"({'agree' if first_ok else 'DISAGREE'} to 1e-8)")
        with no_grad():  # train on: the K steps at the current lr, plain numbers
            lr = math.exp(log_lr)
            for x, y in steps:
                grads = func.grad(loss)([Value(p) for p in params], Value(x), Value(y))
                params = [p - lr * g.data for p, g in zip(params, grads)]
        m = 0.9 * m + 0.1 * h  # Adam on log lr: steps of about meta_lr whatever h's scale
        v = 0.999 * v + 0.001 * h * h
        log_lr -= args.meta_lr * (m / (1 - 0.9 ** (meta + 1))) / (
            math.sqrt(v / (1 - 0.999 ** (meta + 1))) + 1e-12)
        print(f"{meta:>9} {lr:>9.4f} {float(value.data):>9.4f} {h:>11.4g} "
              f"{accuracy(params, data['x_test'], data['y_test']):>8.3f}")
        sys.stdout.flush()
    print(f"final learning rate {math.exp(log_lr):.4f} (started at {args.lr})")
    return 0 if first_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
