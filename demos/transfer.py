"""Option A (train from scratch) vs Option B (transfer learning), on real digits.

    .venv/bin/python demos/transfer.py [--sizes 25 50 100 250] [--repeats 3] [--epochs 300]

The document: "Take a network already trained on 1 million images. Freeze the first 3
layers (keep their weights). Only retrain the last layer ... Done in 100s of images instead
of 10,000s." Here, at the scale of scikit-learn's 8×8 digits (`.venv/bin/python -m pip install -e '.[demos]'`):

1. Pretrain an MLP 64 → 128 → 64 → 5 on the digits 0-4 (all of their training part).
2. Option B: keep its two hidden layers, frozen (``freeze()``), put a fresh last layer
   64 → 5 on top and train only that on a few examples of the digits 5-9.
3. Option A: the same architecture from random weights, every layer trained on the same
   few examples.

Both use the same validation set for early stopping and are scored on the same held-out
test images of 5-9. Accuracy and training time are reported as measured, whichever way
they come out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn


def hidden_layers(seed: int) -> list[nn.Layer]:
    return [nn.Layer(64, 128, "relu", seed=seed), nn.Layer(128, 64, "relu", seed=seed + 1)]


def few(X: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` examples, the same number of each class (as near as n allows), drawn by seed."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = [n // len(classes) + (i < n % len(classes)) for i in range(len(classes))]
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), k, replace=False)
                          for c, k in zip(classes, per)])
    idx = rng.permutation(idx)
    return X[idx], y[idx]


def run(model: nn.Sequential, train, val, test, args, seed: int, lr: float
        ) -> tuple[float, float, int]:
    """Train with early stopping; (test accuracy, seconds, epochs run)."""
    opt = nn.Adam(model.parameters(), lr=lr)  # frozen parameters are left alone
    start = time.perf_counter()
    h = nn.fit(model, nn.cross_entropy, opt, train, val, epochs=args.epochs,
               batch_size=args.batch_size, patience=args.patience, verbose=False, seed=seed)
    if h.interrupted:
        raise KeyboardInterrupt  # Ctrl-C: the demo stops; this run is not counted
    seconds = time.perf_counter() - start
    acc = nn.metrics.accuracy(test[1], nn.predict(model, test[0]).argmax(axis=1))
    return acc, seconds, len(h)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Time: about 65 s with the defaults.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 250],
                   help="numbers of training examples of the digits 5-9 to try")
    p.add_argument("--repeats", type=int, default=3, help="different few-example draws")
    p.add_argument("--epochs", type=int, default=300, help="most epochs on the new task")
    p.add_argument("--pretrain-epochs", type=int, default=100,
                   help="most epochs of pretraining on 0-4")
    p.add_argument("--patience", type=int, default=20,
                   help="early stopping's patience (epochs)")
    p.add_argument("--batch-size", type=int, default=32, help="samples per step")
    p.add_argument("--lr", type=float, default=0.003, help="Adam's learning rate")
    p.add_argument("--head-lr", type=float, default=None,
                   help="Option B's learning rate for its new last layer (None: --lr)")
    p.add_argument("--seed", type=int, default=0, help="split, draws and weights")
    args = p.parse_args(argv)
    if args.head_lr is None:
        args.head_lr = args.lr
    t0 = time.perf_counter()
    print(f"transfer: pretrain an MLP on the digits 0-4, then learn 5-9 from few examples, "
          f"from scratch (Option A) and by retraining only its last layer (Option B), "
          f"{args.repeats} draws of {len(args.sizes)} sizes; about 65 s with the defaults",
          flush=True)

    try:
        X, y = nn.data.load_digits()
    except ImportError as e:
        sys.exit(f"demos/transfer.py: {e}")
    old, new = y < 5, y >= 5
    a_train, a_val, a_test = nn.data.split(X[old], y[old], seed=args.seed, stratify=True)
    b_pool, b_val, b_test = nn.data.split(X[new], y[new] - 5, seed=args.seed, stratify=True)

    print(f"Pretraining on the digits 0-4: {len(a_train[0])} training images")
    base = nn.Sequential(*hidden_layers(args.seed), nn.Layer(64, 5, "linear", seed=args.seed + 2))
    start = time.perf_counter()
    h = nn.fit(base, nn.cross_entropy, nn.Adam(base.parameters(), lr=args.lr), a_train, a_val,
               epochs=args.pretrain_epochs, batch_size=args.batch_size,
               patience=args.patience, verbose=False, seed=args.seed)
    if h.interrupted:
        print(f"  pretraining interrupted (Ctrl-C) after {len(h)} epochs: nothing to compare")
        return 130
    pre_secs = time.perf_counter() - start
    pre_acc = nn.metrics.accuracy(a_test[1], nn.predict(base, a_test[0]).argmax(axis=1))
    print(f"  {len(h)} epochs, {pre_secs:.1f}s; test accuracy on 0-4: {pre_acc:.1%}")
    pretrained = base.state_dict()

    n_trainable_b = 64 * 5 + 5
    n_trainable_a = base.num_parameters()
    print(f"\nNew task: the digits 5-9. Validation {len(b_val[0])} and test {len(b_test[0])} "
          f"images (the same for both options); training sets drawn from {len(b_pool[0])}.")
    print(f"Option A trains all {n_trainable_a} weights from random values; Option B trains "
          f"only the new last layer's {n_trainable_b}, the hidden layers frozen.")
    print(f"Medians over {args.repeats} draws of the few examples:\n")
    print(f"  {'examples':>8} | {'A: scratch acc':>14} {'time':>6} {'epochs':>6} | "
          f"{'B: transfer acc':>15} {'time':>6} {'epochs':>6} | {'B, cached features':>13}")
    summary: list = []
    try:
        measure(args, b_pool, b_val, b_test, pretrained, summary)
    except KeyboardInterrupt:
        print(f"\n  Interrupted (Ctrl-C): {len(summary)} of {len(args.sizes)} size(s) "
              f"finished; the size under way is not counted.")
    report(summary, pre_secs)
    print(f"\nTotal time {time.perf_counter() - t0:.1f}s")
    return 0 if len(summary) == len(args.sizes) else 130


def measure(args: argparse.Namespace, b_pool: tuple, b_val: tuple, b_test: tuple,
            pretrained: dict, summary: list) -> None:
    """Options A, B and B with cached features at each size: a row printed and appended
    to `summary` per finished size (a Ctrl-C leaves the finished ones there)."""
    for n in args.sizes:
        rows_a, rows_b, rows_c = [], [], []
        for r in range(args.repeats):
            seed = args.seed + 100 * r + n
            train = few(*b_pool, n, seed)
            # Option B: the pretrained hidden layers, frozen, and a fresh last layer
            hidden = hidden_layers(args.seed)
            model_b = nn.Sequential(*hidden, nn.Layer(64, 5, "linear", seed=seed))
            model_b.load_state_dict({**pretrained, "layers.2.w": model_b.layers[2].w.data,
                                     "layers.2.b": model_b.layers[2].b.data})
            for layer in hidden:
                layer.freeze()
            rows_b.append(run(model_b, train, b_val, b_test, args, seed, args.head_lr))
            # Option B again, the frozen layers' outputs computed once: the same training
            # (same head, same seed, same batches), without re-running frozen layers
            start = time.perf_counter()
            frozen = nn.Sequential(*hidden)
            feats = [(nn.predict(frozen, part[0]), part[1]) for part in (train, b_val, b_test)]
            head = nn.Sequential(nn.Layer(64, 5, "linear", seed=seed))
            acc_c, _, epochs_c = run(head, *feats, args, seed, args.head_lr)
            rows_c.append((acc_c, time.perf_counter() - start, epochs_c))
            # Option A: the same architecture from random weights, everything trained
            model_a = nn.Sequential(*hidden_layers(seed + 1),
                                    nn.Layer(64, 5, "linear", seed=seed))
            rows_a.append(run(model_a, train, b_val, b_test, args, seed, args.lr))
        ma, mb, mc = (np.median(rows, axis=0) for rows in (rows_a, rows_b, rows_c))
        per_epoch = [1000 * np.median([t / e for _, t, e in rows])
                     for rows in (rows_a, rows_b, rows_c)]
        summary.append((n, ma, mb, mc, per_epoch))
        print(f"  {n:>8} | {ma[0]:>14.1%} {ma[1]:>5.2f}s {ma[2]:>6.0f} | "
              f"{mb[0]:>15.1%} {mb[1]:>5.2f}s {mb[2]:>6.0f} | {mc[0]:>6.1%} {mc[1]:>5.2f}s",
              flush=True)


def report(summary: list, pre_secs: float) -> None:
    """The verdict for each finished size."""
    if not summary:
        return
    print("\n  ('B, cached features': the frozen layers' outputs computed once, then only the"
          " last layer trained:\n   the same training as B, without running frozen layers"
          " every epoch.)\n")
    for n, ma, mb, mc, per_epoch in summary:
        diff = mb[0] - ma[0]
        verdict = ("B is more accurate" if diff > 0.005 else
                   "A is more accurate" if diff < -0.005 else "about equal accuracy")
        print(f"  {n:>4} examples: {verdict} ({diff:+.1%} for B)\n"
              f"        time: B {mb[1] / ma[1]:.2f}x A's, B cached {mc[1] / ma[1]:.2f}x A's; "
              f"per epoch A {per_epoch[0]:.2f} ms, B {per_epoch[1]:.2f} ms, "
              f"B cached {per_epoch[2]:.2f} ms")
    print(f"  B also needs the pretraining ({pre_secs:.1f}s, done once for every size).")


if __name__ == "__main__":
    sys.exit(main())
