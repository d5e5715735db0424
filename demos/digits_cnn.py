"""A small convolutional network on real handwritten digits, against the MLP on the same splits.

    .venv/bin/python demos/digits_cnn.py [--seeds 0 1 2 3 4] [--epochs 60] [--no-mlp] [--min-accuracy 0.99]

Data, split and training loop are demos/digits.py's: scikit-learn's 1,797 bundled 8×8
digits (``.venv/bin/python -m pip install -e '.[demos]'``), pixels scaled to [0, 1], a stratified 70/15/15
split per seed, Adam with early stopping on the validation loss (best weights restored).
The network sees each digit as a 1×8×8 image instead of 64 unrelated numbers:

    Conv2d(1→16, 3×3, pad 1) → BatchNorm2d → ReLU → MaxPool 2×2     16×4×4
    Conv2d(16→32, 3×3, pad 1) → BatchNorm2d → ReLU → MaxPool 2×2    32×2×2
    Flatten → Linear(128→10)                                        10 logits

Each convolution is one small neuron slid over the image, so a stroke is recognised
wherever it sits, with 6,000 weights where the MLP needs 9,600. For every seed the demo
trains the CNN and (unless ``--no-mlp``) the MLP of demos/digits.py with its own settings,
and reports both test accuracies; for the first seed, the CNN's per-class table and
confusion matrix. The exit status is 1 when the median CNN test accuracy is below
``--min-accuracy`` (default 0: report only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the MLP demo, for the comparison

import digits

import nn


def build(channels: tuple[int, int], seed: int, dtype: type = np.float32) -> nn.Sequential:
    """Two conv → batch norm → ReLU → pool stages, then one linear layer to 10 logits."""
    c1, c2 = channels
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, seed=rng, dtype=dtype), nn.BatchNorm2d(c1, dtype=dtype),
        nn.ReLU(dtype=dtype), nn.MaxPool2d(2, dtype=dtype),
        nn.Conv2d(c1, c2, 3, padding=1, seed=rng, dtype=dtype), nn.BatchNorm2d(c2, dtype=dtype),
        nn.ReLU(dtype=dtype), nn.MaxPool2d(2, dtype=dtype),
        nn.Flatten(dtype=dtype), nn.Linear(c2 * 2 * 2, 10, seed=rng, dtype=dtype))


def images(part: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flat rows of 64 pixels as (N, 1, 8, 8) images, one channel."""
    X, y = part
    return X.reshape(-1, 1, 8, 8).astype(np.float32), y


def train_cnn(train_part, val_part, args, seed: int) -> tuple:
    """One CNN trained with `nn.fit`; returns (model, history, seconds)."""
    model = build(tuple(args.channels), seed)
    opt = nn.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    start = time.perf_counter()
    history = nn.fit(model, nn.cross_entropy, opt, images(train_part), images(val_part),
                     epochs=args.epochs, batch_size=args.batch_size, patience=args.patience,
                     verbose=args.verbose, metrics=["accuracy"], seed=seed)
    return model, history, time.perf_counter() - start


def test_accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    pred = nn.predict(model, X).argmax(axis=1)
    return nn.metrics.accuracy(y, pred), pred


def report(y: np.ndarray, pred: np.ndarray) -> None:
    """The per-class table and the confusion matrix of one test set."""
    print(nn.metrics.classification_report(y, pred))
    print("Confusion matrix (rows: true digit, columns: predicted digit):")
    cm = nn.metrics.confusion_matrix(y, pred, labels=range(10))
    print("     " + " ".join(f"{j:>3}" for j in range(10)))
    for i, row in enumerate(cm):
        print(f"  {i:>2} " + " ".join(f"{v:>3}" for v in row))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                epilog="Time: about half a minute per seed on one free core "
                                       "(the MLP a few seconds more); 5 seeds: 2-3 min.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                   help="one split, initialisation and shuffling per seed")
    p.add_argument("--epochs", type=int, default=60, help="most epochs per seed")
    p.add_argument("--patience", type=int, default=10,
                   help="stop after this many epochs without a better validation loss")
    p.add_argument("--batch-size", type=int, default=64, help="samples per step")
    p.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="Adam's weight decay")
    p.add_argument("--channels", type=int, nargs=2, default=[16, 32], metavar=("C1", "C2"),
                   help="channels of the two convolutions")
    p.add_argument("--no-mlp", action="store_true", help="skip the MLP comparison")
    p.add_argument("--min-accuracy", type=float, default=0.0,
                   help="exit 1 when the median CNN test accuracy is below this")
    p.add_argument("--verbose", type=int, default=0, help="nn.fit's progress level (0-2)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    t0 = time.perf_counter()
    try:
        X, y = nn.data.load_digits()
    except ImportError as e:
        sys.exit(f"demos/digits_cnn.py: {e}")
    model = build(tuple(args.channels), 0)
    print(f"{len(X)} digits as 1x8x8 images; seeds {args.seeds}; the CNN has "
          f"{model.num_parameters():,} weights. Each seed takes about half a minute on one "
          f"free core{' (the MLP a few seconds more)' if not args.no_mlp else ''}:")
    print(model)
    rows = []
    for k, seed in enumerate(args.seeds):
        train_part, val_part, test_part = nn.data.split(X, y, seed=seed, stratify=True)
        cnn, history, secs = train_cnn(train_part, val_part, args, seed)
        if history.interrupted:
            print(f"seed {seed}: interrupted (Ctrl-C) after {len(history)} epochs: not "
                  f"counted; stopping", flush=True)
            break
        acc, pred = test_accuracy(cnn, *images(test_part))
        line = (f"seed {seed}: CNN test accuracy {acc:.2%} "
                f"({int(np.sum(pred == test_part[1]))}/{len(pred)}), {len(history)} epochs "
                f"(best {history.best_epoch}) in {secs:.1f}s")
        mlp_acc = None
        if not args.no_mlp:
            mlp_args = digits.parser().parse_args(["--seed", str(seed), "--quiet"])
            mlp, mlp_h, mlp_secs = digits.train(train_part, val_part, mlp_args.hidden,
                                                mlp_args.lr, mlp_args, verbose=False)
            if mlp_h.interrupted:
                print(f"seed {seed}: the MLP was interrupted (Ctrl-C): seed not counted; "
                      f"stopping", flush=True)
                break
            mlp_acc, _ = test_accuracy(mlp, *test_part)
            line += f"; MLP {mlp_acc:.2%} in {mlp_secs:.1f}s"
        print(line, flush=True)
        rows.append((seed, acc, mlp_acc))
        if k == 0:
            print(f"\nThe CNN on seed {seed}'s test set:")
            report(test_part[1], pred)
            print()
    if len(rows) < len(args.seeds):
        print(f"\nInterrupted: {len(rows)} of {len(args.seeds)} seed(s) finished"
              + ("; the summary covers only those." if rows else "; nothing to summarise."))
        if not rows:
            return 130
    cnn_accs = [r[1] for r in rows]
    median = statistics.median(cnn_accs)
    print(f"\nCNN: median test accuracy {median:.2%}, lowest {min(cnn_accs):.2%} over "
          f"{len(rows)} seed(s)")
    if not args.no_mlp:
        mlp_accs = [r[2] for r in rows]
        better, worse = sum(a > b for _, a, b in rows), sum(a < b for _, a, b in rows)
        print(f"MLP: median test accuracy {statistics.median(mlp_accs):.2%}, lowest "
              f"{min(mlp_accs):.2%}, on the same splits. The CNN is better on {better}, "
              f"worse on {worse}, level on {len(rows) - better - worse} of {len(rows)} "
              f"seed(s); {median - statistics.median(mlp_accs):+.2%} at the median")
    print(f"Total time {time.perf_counter() - t0:.1f}s")
    if len(rows) < len(args.seeds):
        return 130
    if median < args.min_accuracy:
        print(f"Median test accuracy {median:.2%} is below the required {args.min_accuracy:.2%}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
