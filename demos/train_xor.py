"""Train a small MLP on XOR, the classic problem one straight line cannot separate.

    .venv/bin/python demos/train_xor.py [--seed 0] [--epochs 500] [--out xor_graph.svg] [--html xor.html]

A 2 → 8 → 2 network (tanh hidden layer, two logits) learns XOR with full-batch Adam and
cross-entropy. It prints the loss every 100 epochs, the final prediction for each of the
four inputs, and draws the gradient graph of one training step to an SVG file. With
``--html`` it also writes a training replay: the loss curve and the decision boundary at
each recorded epoch under a slider (nn.Replay). The exit status is 1 when the network does
not classify all four inputs correctly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn
from autograd import Value, no_grad, save_graph
from autograd._files import check_writable

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0, 1, 1, 0])  # XOR: 1 when exactly one input is 1


def train(seed: int, epochs: int, lr: float, hidden: int, log_every: int = 100,
          replay: nn.Replay | None = None) -> nn.MLP:
    """Full-batch training: forward, loss, backward, one optimizer step per epoch (the
    boundary recorded into `replay` about 100 times, from the weights before each step)."""
    model = nn.MLP(2, [hidden, 2], activation="tanh", seed=seed)
    opt = nn.Adam(model.parameters(), lr=lr)
    every = max(1, epochs // 100)
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        loss = nn.cross_entropy(model(X), Y)
        loss.backward()
        if replay is not None and (epoch % every == 0 or epoch % log_every == 0 or epoch == 1):
            replay.record(model, epoch, loss)
        opt.step()
        if epoch % log_every == 0 or epoch == 1:
            print(f"Epoch {epoch}: loss {loss.item():.4f}")
    return model


def graph_of_one_step(model: nn.MLP, path: str) -> str:
    """Forward and backward once with named intermediate values, then draw that graph."""
    model.zero_grad()
    x = Value(X, label="x")
    h = model.layers[0](x)
    h.label = "h"
    logits = model.layers[1](h)
    logits.label = "logits"
    loss = nn.cross_entropy(logits, Y)
    loss.label = "loss"
    loss.backward()
    return save_graph(loss, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                     epilog="Time: about 2 s with the defaults.")
    parser.add_argument("--seed", type=int, default=0, help="initial weights")
    parser.add_argument("--epochs", type=int, default=500, help="training epochs")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    parser.add_argument("--hidden", type=int, default=8, help="hidden neurons")
    parser.add_argument("--out", default="xor_graph.svg",
                        help="where to draw the gradient graph")
    parser.add_argument("--html", metavar="PATH",
                        help="also write a training replay page (loss + boundary per epoch); "
                             "None: no page")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.hidden < 1 or args.lr <= 0:
        parser.error("--epochs and --hidden must be at least 1 and --lr positive")
    for option, path in (("--html", args.html), ("--out", args.out)):
        try:  # before training, not after it
            if path:
                check_writable(path)
        except OSError as e:
            parser.error(f"{option}: {e}")
    print(f"train_xor: an MLP 2-{args.hidden}-2 learns XOR in {args.epochs} epochs, then the "
          f"gradient graph of one step is drawn; about 2 s", flush=True)

    replay = nn.Replay(X, Y, grid=40) if args.html else None
    model = train(args.seed, args.epochs, args.lr, args.hidden, replay=replay)
    print(model)
    if replay is not None:
        replay.save_html(args.html, title=f"XOR, 2 → {args.hidden} → 2 tanh MLP, seed "
                                          f"{args.seed}: training replay")
        print(f"Training replay written to {Path(args.html).resolve()}")

    with no_grad():
        probs = model(X).softmax().data
    pred = probs.argmax(axis=1)
    print("\nPredictions:")
    for x, p, c, y in zip(X, probs, pred, Y):
        mark = "ok" if c == y else "WRONG"
        print(f"  {int(x[0])} XOR {int(x[1])} -> {c}  (P(1) = {p[1]:.3f}, expected {y})  {mark}")
    accuracy = float(np.mean(pred == Y))
    print(f"Accuracy: {accuracy:.0%}")

    try:
        written = graph_of_one_step(model, args.out)
        print(f"Gradient graph of one training step written to {Path(written).resolve()}")
    except (RuntimeError, OSError, ValueError) as e:
        print(f"warning: could not draw the graph: {e}", file=sys.stderr)

    if accuracy < 1.0:
        print(f"Training failed: {accuracy:.0%} of the XOR table is right, not 100%",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
