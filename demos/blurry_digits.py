"""The document's own setting: blurry 4×4 images of "1" and "0", and its 16-4-3-2 network.

    .venv/bin/python demos/blurry_digits.py [--train 16] [--noise 0.4] [--epochs 300] [--repeats 5]
                                  [--plot blurry_curves.svg]

Images are generated from a seed: a "1" is a vertical stroke (column 1 or 2, as in the
document's picture), a "0" a ring; each is blurred by a random amount, gets Gaussian pixel
noise and is clipped to [0, 1]. Outputs follow the document: index 0 is "is it 1?",
index 1 is "is it 0?".

With a tiny training set (16 images) the network memorises it: the training loss goes to
~0 while the validation loss turns upward, the document's sign of overfitting. The demo
then trains the same network four more ways: with data augmentation (mirroring, pixel
noise, brightness), with dropout on the input pixels, with early stopping, and with all
three, and reports the validation curves and the accuracy on 1,000 fresh test images,
with the median over `--repeats` data sets (each number is measured, not chosen).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn
from nn._checks import install_hint
from nn.history import save_figure

CLASSES = ("1", "0")  # the document's output order
DOC_IMAGE = np.array([0.1, 0.7, 0.2, 0.1, 0.2, 0.8, 0.2, 0.1,
                      0.1, 0.6, 0.3, 0.2, 0.1, 0.7, 0.1, 0.1])  # the document's "1"


def _blur(img: np.ndarray) -> np.ndarray:
    """A 3×3 binomial blur (weights 1/4, 1/2, 1/4 along each axis), edges repeated."""
    p = np.pad(img, 1, mode="edge")
    rows = 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]
    return 0.25 * rows[:, :-2] + 0.5 * rows[:, 1:-1] + 0.25 * rows[:, 2:]


def make_images(n: int, rng: np.random.Generator, noise: float = 0.4
                ) -> tuple[np.ndarray, np.ndarray]:
    """`n` blurry 4×4 digits as rows of 16 pixels, and their labels (0 = "1", 1 = "0")."""
    y = rng.integers(0, 2, size=n)
    X = np.zeros((n, 4, 4))
    for i in range(n):
        img = np.zeros((4, 4))
        ink = rng.uniform(0.6, 1.0)
        if y[i] == 0:  # "1": a vertical stroke
            img[:, rng.integers(1, 3)] = ink
        else:  # "0": a ring
            img[:, :] = ink
            img[1:3, 1:3] = 0.0
        amount = rng.uniform(0.0, 0.8)
        img = (1 - amount) * img + amount * _blur(img)
        X[i] = np.clip(img + rng.normal(0.0, noise, size=(4, 4)), 0.0, 1.0)
    return X.reshape(n, 16), y


def augment(xb: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Mirror left-right (a "1" in column 1 becomes one in column 2; a "0" stays a "0"),
    add pixel noise and change the brightness: new images with the same labels."""
    x = xb.reshape(-1, 4, 4)
    x = nn.data.flip(x, rng)
    x = nn.data.noise(x, rng, std=noise)
    x = nn.data.brightness(x, rng, max_delta=0.1)
    return x.reshape(len(xb), 16)


def network(seed: int, input_dropout: float = 0.0) -> nn.Sequential:
    """The document's architecture: 16 inputs → 4 (ReLU) → 3 (ReLU) → 2 logits."""
    parts: list[nn.Module] = [nn.Dropout(input_dropout, seed=seed)] if input_dropout else []
    parts += [nn.Layer(16, 4, "relu", seed=seed + 1), nn.Layer(4, 3, "relu", seed=seed + 2),
              nn.Layer(3, 2, "linear", seed=seed + 3)]
    return nn.Sequential(*parts)


def show(img: np.ndarray, title: str) -> str:
    rows = [" ".join(f"{v:.1f}" for v in img.reshape(4, 4)[r]) for r in range(4)]
    return f"  {title}\n" + "\n".join("    " + r for r in rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Time: under a minute with the defaults.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--train", type=int, default=16, help="training images (tiny on purpose)")
    p.add_argument("--val", type=int, default=300, help="validation images")
    p.add_argument("--test", type=int, default=1000, help="test images")
    p.add_argument("--noise", type=float, default=0.4, help="pixel noise of the images")
    p.add_argument("--epochs", type=int, default=300, help="most epochs to train")
    p.add_argument("--batch-size", type=int, default=8, help="images per step")
    p.add_argument("--lr", type=float, default=0.02, help="learning rate")
    p.add_argument("--dropout", type=float, default=0.2, help="dropout on the input pixels")
    p.add_argument("--patience", type=int, default=20,
                   help="early stopping's patience (epochs)")
    p.add_argument("--repeats", type=int, default=5, help="data sets to average over")
    p.add_argument("--seed", type=int, default=0, help="seed of the images and weights")
    p.add_argument("--plot", default="blurry_curves.svg",
                   help="draw the curves of the first data set here (needs matplotlib; '' to skip)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    print(f"blurry_digits: the document's 16-4-3-2 network on {args.train} generated 4x4 "
          f"images, trained plainly and with augmentation, dropout and early stopping, over "
          f"{args.repeats} data sets; under a minute with the defaults", flush=True)

    Xs, ys = make_images(20, np.random.default_rng(args.seed), args.noise)
    print(f"Blurry 4x4 digits, pixel noise {args.noise}, generated from seed {args.seed}:")
    print(show(DOC_IMAGE, 'the document\'s "1"'))
    for lab in (0, 1):
        print(show(Xs[np.flatnonzero(ys == lab)[0]], f'a generated "{CLASSES[lab]}"'))
    print(f"Training set: {args.train} images (tiny); validation {args.val}; "
          f"test {args.test}. Network 16-4-3-2 (ReLU), Adam lr {args.lr}, "
          f"batches of {args.batch_size}, {args.epochs} epochs.\n")

    def aug(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return augment(xb, rng, args.noise)

    settings = [  # name, input dropout, augmentation, patience
        ("plain", 0.0, None, None),
        ("augmentation", 0.0, aug, None),
        (f"dropout {args.dropout}", args.dropout, None, None),
        (f"early stop ({args.patience})", 0.0, None, args.patience),
        ("all three", args.dropout, aug, args.patience),
    ]
    results: dict[str, list[tuple[float, ...]]] = {name: [] for name, *_ in settings}
    curves: dict[str, nn.History] = {}
    final_model = None
    for r in range(args.repeats):
        rng = np.random.default_rng(args.seed + r)
        train = make_images(args.train, rng, args.noise)
        val = make_images(args.val, rng, args.noise)
        test = make_images(args.test, rng, args.noise)
        rows: dict[str, tuple[float, ...]] = {}
        for name, drop, a, patience in settings:
            model = network(args.seed + 10 * r, drop)
            opt = nn.Adam(model.parameters(), lr=args.lr)
            h = nn.fit(model, nn.cross_entropy, opt, train, val, epochs=args.epochs,
                       batch_size=args.batch_size, patience=patience, verbose=False,
                       augment=a, seed=args.seed + r)
            if h.interrupted:
                break
            kept = nn.evaluate(model, nn.cross_entropy, *val)["loss"]
            acc = nn.metrics.accuracy(test[1], nn.predict(model, test[0]).argmax(axis=1))
            rows[name] = (h["train_loss"][-1], min(h["val_loss"]), h["val_loss"][-1], kept,
                          acc, len(h))
            if r == 0:
                curves[name] = h
                final_model = model
        if h.interrupted:  # the data set under way is not counted
            print(f"Interrupted (Ctrl-C) during data set {r + 1} ({name!r}): {r} of "
                  f"{args.repeats} data set(s) finished"
                  + ("; the tables below cover only those.\n" if r else "."))
            break
        for name, row in rows.items():
            results[name].append(row)
    finished = len(results[settings[0][0]])
    if not finished:
        return 130

    print(f"Medians over {args.repeats} generated data sets ('val kept': the validation loss "
          "of the weights a run ends with; 'stuck': runs left at chance, <60% test accuracy):")
    print(f"  {'setting':<20} {'epochs':>6} {'train loss':>10} {'val best':>8} "
          f"{'val end':>7} {'val kept':>8} {'test acc':>8} {'stuck':>5}")
    for name, rows in results.items():
        v = np.array(rows)
        m = np.median(v, axis=0)
        stuck = int(np.sum(v[:, 4] < 0.6))
        print(f"  {name:<20} {m[5]:>6.0f} {m[0]:>10.4f} {m[1]:>8.3f} {m[2]:>7.3f} "
              f"{m[3]:>8.3f} {m[4]:>8.1%} {stuck:>5}")
    print("  (a 16-4-3-2 ReLU network can start, or end up, with every unit of a hidden "
          "layer silent for all inputs:\n   no gradient reaches it again and it predicts one "
          "class: the 'dying ReLU' problem of tiny networks)")

    marks = [e for e in (1, 5, 10, 25, 50, 100, 150, 200, 300, 500) if e <= args.epochs]
    print("\nValidation loss by epoch, first data set ('-': stopped early):")
    print(f"  {'setting':<20} " + " ".join(f"{e:>6}" for e in marks))
    for name, h in curves.items():
        cells = [f"{h['val_loss'][e - 1]:>6.3f}" if e <= len(h) else f"{'-':>6}"
                 for e in marks]
        print(f"  {name:<20} " + " ".join(cells))
    plain = curves["plain"]
    best = int(np.argmin(plain["val_loss"])) + 1
    print(f"\nplain: validation loss is lowest at epoch {best} "
          f"({min(plain['val_loss']):.3f}) and ends at {plain['val_loss'][-1]:.3f}, while the "
          f"training loss falls from {plain['train_loss'][best - 1]:.4f} to "
          f"{plain['train_loss'][-1]:.4f}: "
          + ("memorising, i.e. overfitting." if plain["val_loss"][-1] > min(plain["val_loss"])
             else "no overfitting this time."))

    if args.plot:
        try:
            print(f"Curves drawn to {Path(plot(curves, args.plot)).resolve()}")
        except ImportError as e:
            print(f"(no plot: {e})")

    assert final_model is not None
    prob = _softmax(nn.predict(final_model, DOC_IMAGE[None, :])[0])
    print(f"\nThe document's own image through the 'all three' network: "
          f"P(\"1\") = {prob[0]:.1%}, P(\"0\") = {prob[1]:.1%}")
    print(f"Total time {time.perf_counter() - t0:.1f}s")
    return 0 if finished == args.repeats else 130


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def plot(curves: dict[str, nn.History], path: str) -> str:
    """Training (dashed) and validation (solid) loss of each setting, in one picture."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"drawing needs matplotlib: {install_hint('matplotlib')}") from None
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    for i, (name, h) in enumerate(curves.items()):
        color = f"C{i}"
        ax.plot(h.epochs, h["val_loss"], color=color, label=f"{name}: validation")
        ax.plot(h.epochs, h["train_loss"], color=color, linestyle="--", alpha=0.6)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.set_title("Blurry 4x4 digits, 16-4-3-2: validation (solid) vs training (dashed)")
    ax.legend(fontsize="small")
    return save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
