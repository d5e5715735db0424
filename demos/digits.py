"""The document's ML lifecycle, end to end, on real handwritten digits.

    .venv/bin/python demos/digits.py [--epochs 150] [--patience 15] [--tune] [--plot digits_curves.svg]
                           [--save digits_model.npz]

Data: the 1,797 8×8 digit images that scikit-learn ships inside its package
(``sklearn.datasets.load_digits()``: no download). Install it with the `demos` extra:
``.venv/bin/python -m pip install -e '.[demos]'``.

Phase 2: pixels 0-16 scaled to [0, 1] by the model's first module (`nn.data.ScalePixels`,
so the saved model takes raw pixels, as a client sends them); a stratified 70/15/15 split.
Phase 3: an MLP 64 → hidden (ReLU) → dropout → 10 logits. Phase 4: `nn.fit` with Adam, mini-batches of 32,
early stopping on the validation loss (best weights restored). Phase 5 (``--tune``): a
small search over learning rate and width, judged on the validation set only. Phase 6: the
test set, once: accuracy, per-class precision and recall, confusion matrix. Phase 7
(``--save``): a model file for ``python -m nn.serve``. The exit status is 1 when the test
accuracy is below ``--min-accuracy`` (default 0: report only).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn
from nn._checks import python_command


def build(hidden: int, dropout: float, seed: int) -> nn.Sequential:
    """Phases 2-3: raw pixels 0-16 scaled to [0, 1] (inside the model, so the saved file
    keeps its preprocessing) → `hidden` ReLU neurons → dropout → 10 logits."""
    return nn.Sequential(nn.data.ScalePixels(16.0),
                         nn.Layer(64, hidden, "relu", seed=seed),
                         nn.Dropout(dropout, seed=seed),
                         nn.Layer(hidden, 10, "linear", seed=seed + 1))


def train(train_part, val_part, hidden: int, lr: float, args, verbose) -> tuple:
    """Phase 4: one model trained with `nn.fit`; returns (model, history, seconds)."""
    model = build(hidden, args.dropout, args.seed)
    opt = nn.Adam(model.parameters(), lr=lr, weight_decay=args.weight_decay)
    start = time.perf_counter()
    history = nn.fit(model, nn.cross_entropy, opt, train_part, val_part, epochs=args.epochs,
                     batch_size=args.batch_size, patience=args.patience, verbose=verbose,
                     metrics=["accuracy"], seed=args.seed)
    return model, history, time.perf_counter() - start


def tune(train_part, val_part, args) -> tuple:
    """Phase 5: try each learning rate × width; the best validation accuracy wins (ties:
    the lower validation loss). The test set is not looked at. Returns the winner's
    (hidden, lr, model, history, seconds)."""
    print("Phase 5: hyperparameter search on the validation set")
    print(f"  {'lr':>7} {'hidden':>6} {'epochs':>6} {'val loss':>8} {'val acc':>7} {'time':>6}")
    results = []
    for lr, hidden in itertools.product(args.tune_lrs, args.tune_widths):
        model, h, secs = train(train_part, val_part, hidden, lr, args, verbose=False)
        if h.interrupted:  # an unfinished run is not a candidate: stop the search here
            print(f"  {lr:>7g} {hidden:>6d} interrupted (Ctrl-C) after {len(h)} epochs")
            return hidden, lr, model, h, secs
        best = h.best_epoch - 1
        acc, vl = h["accuracy"][best], h["val_loss"][best]
        results.append(((acc, -vl), (hidden, lr, model, h, secs)))
        print(f"  {lr:>7g} {hidden:>6d} {len(h):>6d} {vl:>8.4f} {acc:>7.2%} {secs:>5.1f}s")
    (acc, neg_vl), winner = max(results, key=lambda r: r[0])
    print(f"  winner: lr={winner[1]:g}, hidden={winner[0]} (val accuracy {acc:.2%}, "
          f"val loss {-neg_vl:.4f}); its trained model goes on to the test set\n")
    return winner


def curve_table(history: nn.History, every: int) -> str:
    """The validation curves as text: every `every`-th epoch, the best and the last."""
    marks = sorted({*range(every, len(history) + 1, every), 1, len(history),
                    history.best_epoch or 1})
    lines = [f"  {'epoch':>5} {'train loss':>10} {'val loss':>8} {'val acc':>7}"]
    for e in marks:
        i = e - 1
        star = "  <- best" if e == history.best_epoch else ""
        lines.append(f"  {e:>5} {history['train_loss'][i]:>10.4f} "
                     f"{history['val_loss'][i]:>8.4f} {history['accuracy'][i]:>7.2%}{star}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The demo's options and their defaults (demos/digits_cnn.py trains its MLP with them)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Time: about 3 s, plus about 17 s with --tune.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=int, default=150, help="most epochs to train")
    p.add_argument("--patience", type=int, default=15,
                   help="stop after this many epochs without a better validation loss")
    p.add_argument("--batch-size", type=int, default=32, help="samples per step")
    p.add_argument("--hidden", type=int, default=128, help="width of the hidden layer")
    p.add_argument("--dropout", type=float, default=0.2, help="dropout after the hidden layer")
    p.add_argument("--lr", type=float, default=0.003, help="Adam's learning rate")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="Adam's weight decay")
    p.add_argument("--seed", type=int, default=0, help="split, initial weights, shuffling")
    p.add_argument("--tune", action="store_true", help="search lr and width first")
    p.add_argument("--tune-lrs", type=float, nargs="+", default=[0.01, 0.003, 0.001],
                   help="learning rates --tune tries")
    p.add_argument("--tune-widths", type=int, nargs="+", default=[32, 64, 128],
                   help="hidden widths --tune tries")
    p.add_argument("--plot", default="digits_curves.svg",
                   help="where to draw the loss curves (needs matplotlib; '' to skip)")
    p.add_argument("--save", default="", help="write the final model here (.npz)")
    p.add_argument("--min-accuracy", type=float, default=0.0,
                   help="exit 1 when the test accuracy is below this")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    t0 = time.perf_counter()
    print("digits: an MLP on scikit-learn's 1,797 8x8 digits, the document's lifecycle from "
          "split to test accuracy; about 3 s" + (", plus about 17 s for --tune" if args.tune else ""),
          flush=True)

    try:
        X, y = nn.data.load_digits(scaled=False)  # raw pixels 0-16: the model scales them
    except ImportError as e:
        sys.exit(f"demos/digits.py: {e}")
    print(f"Phase 1: {len(X)} handwritten digits, 8x8 pixels, classes "
          f"{np.bincount(y).tolist()} (images per digit 0-9)")
    train_part, val_part, test_part = nn.data.split(X, y, seed=args.seed, stratify=True)
    print(f"Phase 2: pixels scaled to [0, 1] by the model's first module; stratified split: {len(train_part[0])} train, "
          f"{len(val_part[0])} validation, {len(test_part[0])} test\n")

    if args.tune:
        hidden, lr, model, history, secs = tune(train_part, val_part, args)
    else:
        hidden, lr = args.hidden, args.lr
    print(f"Phase 3: MLP 64 pixels / 16 -> {hidden} (ReLU) -> dropout {args.dropout} "
          f"-> 10 logits")
    print(f"Phase 4: Adam lr={lr:g}, weight decay {args.weight_decay:g}, batches of "
          f"{args.batch_size}, up to {args.epochs} epochs, patience {args.patience}")
    if not args.tune:
        model, history, secs = train(train_part, val_part, hidden, lr, args,
                                     verbose=not args.quiet)
    if history.interrupted:
        print(f"\nInterrupted (Ctrl-C) after {len(history)} finished epochs, {secs:.1f}s: an "
              f"unfinished run, so no test accuracy, plot or saved model.")
        return 130
    print(f"\nTrained {len(history)} epochs in {secs:.1f}s ({history.stop_reason}); "
          f"best epoch {history.best_epoch}, weights restored: {history.restored}")
    print("Validation curves:")
    print(curve_table(history, every=max(1, len(history) // 8)))
    if args.plot:
        try:
            print(f"Loss curves drawn to "
                  f"{Path(history.plot(args.plot, title='Digits: loss')).resolve()}")
        except ImportError as e:
            print(f"(no plot: {e})")

    print("\nPhase 6: the test set, evaluated once")
    pred = nn.predict(model, test_part[0]).argmax(axis=1)
    acc = nn.metrics.accuracy(test_part[1], pred)
    print(f"Test accuracy: {acc:.2%} ({int(np.sum(pred == test_part[1]))}/{len(pred)})")
    print(nn.metrics.classification_report(test_part[1], pred))
    print("Confusion matrix (rows: true digit, columns: predicted digit):")
    cm = nn.metrics.confusion_matrix(test_part[1], pred, labels=range(10))
    print("     " + " ".join(f"{j:>3}" for j in range(10)))
    for i, row in enumerate(cm):
        print(f"  {i:>2} " + " ".join(f"{v:>3}" for v in row))

    if args.save:
        print(f"\nPhase 7: model (with its pixel scaling) saved to {Path(model.save(args.save)).resolve()}; "
              f"serve it with\n  {python_command()} -m nn.serve {args.save} --port 8000  "
              f"(send raw pixels 0-16)")
    print(f"\nTotal time {time.perf_counter() - t0:.1f}s")
    if acc < args.min_accuracy:
        print(f"Test accuracy {acc:.2%} is below the required {args.min_accuracy:.2%}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
