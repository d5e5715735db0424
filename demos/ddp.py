"""Data-parallel training on PyTorch's engine: a model built here, trained by two processes.

    torchrun --nproc_per_node=2 demos/ddp.py [--steps 40] [--batch 64] [--out .]

We convert, PyTorch distributes. The model is written with this project's engine (a module
with its own ``forward``: a residual MLP on scikit-learn's 8×8 digits, float64);
`nn.to_torch` traces it into a ``torch.nn.Module``; each process wraps that in PyTorch's
``DistributedDataParallel`` (the gloo backend, on 127.0.0.1) and trains on its half of every
global batch, DDP averaging the gradients between the processes after each backward pass.

Then rank 0 checks the claim: one process, this project's own engine (`nn.SGD`), training
the same initial weights on the same global batches, must reach the same weights (within
1e-6; in float64 they agree to about 1e-13). Finally `nn.from_torch` brings the trained
model back, and one test digit's prediction is explained (`autograd.explain`, the last
step's numbers) and drawn (`ddp_prediction.svg`, needs Graphviz's dot).

Run without torchrun it trains in one process (a world of one) and checks the same.
Needs the `interop` and `demos` extras (torch, scikit-learn). About 20 s on an idle
2-core machine (most of it starting the processes); a minute or more on a busy one.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # two processes on two cores: one thread each

import argparse
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn
from autograd import Value, explain, save_graph
from nn._checks import extra_hint

TOLERANCE = 1e-6


@nn.register
class ResidualMLP(nn.Module):
    """64 pixels → `width` (ReLU) → a residual block → 10 logits."""

    def __init__(self, width: int = 32, seed: int = 0) -> None:
        super().__init__()
        self.width, self.seed = width, seed
        rng = np.random.default_rng(seed)
        self.inp = nn.Linear(64, width, seed=rng)
        self.block = nn.Linear(width, width, seed=rng)
        self.out = nn.Linear(width, 10, seed=rng)

    def forward(self, x: Any) -> Value:
        h = self.inp(x).relu()
        h = h + self.block(h).tanh()
        return self.out(h)

    def config(self) -> dict[str, Any]:
        return {"width": self.width, "seed": self.seed}


def global_batches(n: int, batch: int, steps: int, seed: int) -> list[np.ndarray]:
    """The row indices of every global batch, the same in every process."""
    rng = np.random.default_rng(seed)
    return [rng.choice(n, size=batch, replace=False) for _ in range(steps)]


def train_ddp(model: nn.Module, X: np.ndarray, y: np.ndarray, batches: list[np.ndarray],
              args: argparse.Namespace, rank: int, world: int) -> Any:
    """The traced torch module under DistributedDataParallel: each rank takes its share of
    each global batch; DDP averages the gradients, so every rank makes the same step."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    tmodel = nn.to_torch(model, X[:2])
    ddp = DistributedDataParallel(tmodel)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for step, rows in enumerate(batches, 1):
        mine = torch.tensor(np.array_split(rows, world)[rank])
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(ddp(Xt[mine]), yt[mine])
        loss.backward()  # DDP all-reduces (averages) the gradients here
        opt.step()
        if rank == 0 and (step % max(1, len(batches) // 4) == 0 or step == len(batches)):
            print(f"  step {step:3d}/{len(batches)}: rank 0's loss {loss.item():.4f}",
                  flush=True)
    return ddp.module


def train_one_process(model: nn.Module, X: np.ndarray, y: np.ndarray,
                      batches: list[np.ndarray], lr: float) -> nn.Module:
    """The reference: this engine, one process, whole global batches."""
    opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9)
    for rows in batches:
        opt.zero_grad()
        nn.cross_entropy(model(X[rows]), y[rows]).backward()
        opt.step()
    return model


def explain_one(model: nn.Module, x: np.ndarray, label: int, out_dir: Path) -> None:
    """One test digit through the model brought back: its probabilities, the last step of
    the calculation in numbers, and the whole graph drawn."""
    logits = model(Value(x[None], label="digit"))
    p = np.exp(logits.data[0] - logits.data.max())
    p /= p.sum()
    guess = int(p.argmax())
    print(f"\nOne test digit (a {label}) through the model brought back with nn.from_torch: "
          f"predicted {guess} with probability {p[guess]:.1%}")
    score = logits[0, guess]
    score.label = f"logit of {guess}"
    lines = explain(score).splitlines()
    print("The last steps of that prediction, as explain() writes them:")
    print("\n".join("  " + ln[:150] for ln in lines[-4:]))
    path = out_dir / "ddp_prediction.svg"
    try:
        print(f"Its graph drawn to {Path(save_graph(score, str(path))).resolve()}")
    except Exception as e:  # noqa: BLE001 (no Graphviz: say so, the rest stands)
        print(f"(no drawing: {e})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                epilog="Time: about 20 s with the defaults on an idle 2-core machine.")
    p.add_argument("--steps", type=int, default=40, help="optimizer steps")
    p.add_argument("--batch", type=int, default=64,
                   help="global batch size (split between the processes)")
    p.add_argument("--lr", type=float, default=0.1, help="SGD's learning rate (momentum 0.9)")
    p.add_argument("--width", type=int, default=32, help="hidden width of the model")
    p.add_argument("--seed", type=int, default=0, help="initial weights and batches")
    p.add_argument("--out", default=".", help="directory for ddp_prediction.svg")
    args = p.parse_args(argv)
    if args.steps < 1 or args.batch < 2:
        p.error("--steps must be at least 1 and --batch at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        import torch
        import torch.distributed as dist
    except ImportError:
        sys.exit(f"demos/ddp.py needs torch: {extra_hint('interop')}")
    try:
        X, y = nn.data.load_digits()
    except ImportError as e:
        sys.exit(f"demos/ddp.py: {e}")
    if "RANK" not in os.environ:  # not under torchrun: a world of one process
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=str(_free_port()))
        print("(not started by torchrun: training in one process; for two, run\n"
              "  torchrun --nproc_per_node=2 demos/ddp.py)")
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        return run(args, X, y, rank, world)
    finally:
        dist.destroy_process_group()


def run(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, rank: int, world: int) -> int:
    train_X, train_y = X[:1500], y[:1500]
    batches = global_batches(len(train_X), args.batch, args.steps, args.seed)
    model = ResidualMLP(args.width, args.seed)
    if rank == 0:
        print(f"ddp: {model.num_parameters():,} weights built with nn, traced to torch by "
              f"nn.to_torch, trained by {world} process(es) under DistributedDataParallel "
              f"(gloo, 127.0.0.1): {args.steps} steps of {args.batch} digits, "
              f"{args.batch // world} per process", flush=True)
    start = time.perf_counter()
    trained = train_ddp(model, train_X, train_y, batches, args, rank, world)
    seconds = time.perf_counter() - start
    if rank != 0:
        return 0
    back = nn.from_torch(trained)
    reference = train_one_process(ResidualMLP(args.width, args.seed), train_X, train_y,
                                  batches, args.lr)
    diff = max(float(np.max(np.abs(a - b)))
               for a, b in zip(back.state_dict().values(), reference.state_dict().values()))
    moved = max(float(np.max(np.abs(a - b))) for a, b in
                zip(back.state_dict().values(), ResidualMLP(args.width,
                                                            args.seed).state_dict().values()))
    ok = diff <= TOLERANCE
    print(f"Trained in {seconds:.1f}s. One process with this engine on the same global "
          f"batches reaches the same weights: largest difference {diff:.1e} (the weights "
          f"moved by up to {moved:.2f}); {'agree' if ok else 'DISAGREE'} within "
          f"{TOLERANCE:g}")
    test_X, test_y = X[1500:], y[1500:]
    acc = float(np.mean(nn.predict(back, test_X).argmax(axis=1) == test_y))
    print(f"Test accuracy of the trained model on {len(test_y)} held-out digits: {acc:.1%}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    explain_one(back, test_X[0], int(test_y[0]), out_dir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
