"""A character-level GPT trained on Python's own documentation, with this project's engine.

    .venv/bin/python demos/tiny_gpt.py [--steps 1500] [--save gpt.npz]     # train, report, sample
    .venv/bin/python demos/tiny_gpt.py --load gpt.npz --generate 500 --prompt "The " --top-k 20
    .venv/bin/python demos/tiny_gpt.py --load gpt.npz --steps 0 --attention-map attention.png
    .venv/bin/python demos/tiny_gpt.py --explain-attention attention_score.svg

The text is ``pydoc_data.topics`` (the help texts every CPython ships, ~465,000 characters:
no download), split 90/10 by position. The model is the GPT recipe at toy scale: token and
position embeddings; `--n-layer` pre-norm blocks, each ``x + attention(LayerNorm(x))``
(causal: a position sees only its past) then ``x + MLP(LayerNorm(x))`` with a GELU; a final
LayerNorm and a linear head giving the next character's logits. Every piece is a public
layer of `nn` (Embedding, MultiheadAttention, LayerNorm, Linear, GELU); training is AdamW
with gradient clipping, a linear warm-up then a cosine decay, on random windows of the
training text. The validation loss is in nats per character, beside the unigram and bigram
models counted on the same training text. Ctrl-C stops training and keeps the best weights.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import nn
from autograd import Value, no_grad
from nn._checks import extra_hint
from nn.optim import CosineAnnealingLR, LinearLR, SequentialLR
from nn.progress import CtrlC

GOAL = 0.7  # validation loss at most this times the bigram baseline's


# ---- the text ------------------------------------------------------------------------------
def load_text() -> str:
    """Python's help topics, in sorted topic order (the same text on every run)."""
    from pydoc_data.topics import topics
    return "".join(topics[k] for k in sorted(topics))


def encode(text: str, chars: str) -> np.ndarray:
    """Character → index in `chars`; an unknown character is refused by name."""
    index = {c: i for i, c in enumerate(chars)}
    unknown = sorted(set(text) - set(index))
    if unknown:
        raise ValueError(f"the text has {len(unknown)} character(s) the model does not know: "
                         f"{''.join(unknown)!r} (its vocabulary has {len(chars)}: "
                         f"{chars[:40]!r}...)")
    return np.array([index[c] for c in text], dtype=np.int64)


def decode(ids: Any, chars: str) -> str:
    return "".join(chars[int(i)] for i in ids)


def split(data: np.ndarray, fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """The first 90% to train on, the last 10% to validate on (by position: no window of
    validation text was seen in training)."""
    n = int(len(data) * fraction)
    return data[:n], data[n:]


def windows(data: np.ndarray, starts: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``data[s : s+block]`` and targets shifted by one, for each start s."""
    offsets = starts[:, None] + np.arange(block)
    return data[offsets], data[offsets + 1]


def random_batch(data: np.ndarray, batch: int, block: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A mini-batch of `batch` windows at random positions."""
    return windows(data, rng.integers(0, len(data) - block, batch), block)


# ---- the baselines -------------------------------------------------------------------------
def baselines(train: np.ndarray, val: np.ndarray, vocab: int) -> tuple[float, float]:
    """Validation cross-entropy (nats/char) of the unigram model (character frequencies)
    and the bigram model (next character given this one), both counted on the training
    text with add-one smoothing."""
    uni = np.bincount(train, minlength=vocab) + 1.0
    uni /= uni.sum()
    bi = np.ones((vocab, vocab))
    np.add.at(bi, (train[:-1], train[1:]), 1.0)
    bi /= bi.sum(axis=1, keepdims=True)
    return float(-np.log(uni[val]).mean()), float(-np.log(bi[val[:-1], val[1:]]).mean())


# ---- the model -----------------------------------------------------------------------------
class Block(nn.Module):
    """One pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, n_embd: int, n_head: int, rng: np.random.Generator,
                 dtype: Any) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, dtype=dtype)
        self.attn = nn.MultiheadAttention(n_embd, n_head, seed=rng, dtype=dtype)
        self.ln_2 = nn.LayerNorm(n_embd, dtype=dtype)
        self.fc = nn.Linear(n_embd, 4 * n_embd, seed=rng, dtype=dtype)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * n_embd, n_embd, seed=rng, dtype=dtype)

    def forward(self, x: Value) -> Value:
        x = x + self.attn(self.ln_1(x), causal=True)
        return x + self.proj(self.gelu(self.fc(self.ln_2(x))))


@nn.register
class TinyGPT(nn.Module):
    """``TinyGPT(chars, block_size, n_embd, n_head, n_layer)``: token ids (N, T), T ≤
    block_size, → next-character logits (N, T, len(chars)).

    Weights start as the layers draw them (torch's initialisations). GPT-2's N(0, 0.02²)
    learned slower at this size and budget: 1.746 against 1.547 nats/char after 800 steps."""

    def __init__(self, chars: str, block_size: int = 64, n_embd: int = 64, n_head: int = 4,
                 n_layer: int = 4, seed: int | None = 0, dtype: Any = "float32") -> None:
        super().__init__()
        if not isinstance(chars, str) or len(set(chars)) != len(chars) or not chars:
            raise ValueError("TinyGPT: chars must be a non-empty string of distinct characters")
        self.chars, self.block_size = chars, int(block_size)
        self.n_embd, self.n_head, self.n_layer = int(n_embd), int(n_head), int(n_layer)
        self.seed, self.dtype = seed, np.dtype(dtype).name
        rng = np.random.default_rng(seed)
        self.tok = nn.Embedding(len(chars), n_embd, seed=rng, dtype=dtype)
        self.pos = nn.Embedding(block_size, n_embd, seed=rng, dtype=dtype)
        self.blocks = [Block(n_embd, n_head, rng, dtype) for _ in range(n_layer)]
        self.ln_f = nn.LayerNorm(n_embd, dtype=dtype)
        self.head = nn.Linear(n_embd, len(chars), seed=rng, dtype=dtype)

    def forward(self, idx: Any) -> Value:
        idx = np.asarray(idx)
        if idx.ndim != 2:
            raise ValueError(f"TinyGPT expects token ids of shape (batch, time), got shape "
                             f"{idx.shape}")
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"TinyGPT: a context of {t} characters is longer than the "
                             f"position table (block_size {self.block_size}); crop it to the "
                             f"last {self.block_size}")
        x = self.tok(idx) + self.pos(np.arange(t))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    MAX_LAYERS = 1024  # what state_shapes will describe (a file may claim any number)

    @classmethod
    def state_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        """Every stored weight's shape for `config`, from the layers' own state_shapes,
        worked out without building the model: `nn.load` (and --load) check a file's
        arrays against these before anything is allocated."""
        chars = config.get("chars")
        if not isinstance(chars, str) or not chars:
            raise ValueError("TinyGPT: chars must be a non-empty string")
        e = config.get("n_embd", MODEL_ARGS["n_embd"])
        n_layer = config.get("n_layer", MODEL_ARGS["n_layer"])
        if isinstance(n_layer, bool) or not isinstance(n_layer, int) \
                or not 0 <= n_layer <= cls.MAX_LAYERS:
            raise ValueError(f"TinyGPT: n_layer must be an int from 0 to {cls.MAX_LAYERS}, "
                             f"got {n_layer!r}")
        parts: list[tuple[str, type[nn.Module], dict[str, Any]]] = [
            ("tok", nn.Embedding, {"num_embeddings": len(chars), "embedding_dim": e}),
            ("pos", nn.Embedding, {"num_embeddings": config.get(
                "block_size", MODEL_ARGS["block_size"]), "embedding_dim": e})]
        for i in range(n_layer):
            parts += [(f"blocks.{i}.ln_1", nn.LayerNorm, {"normalized_shape": e}),
                      (f"blocks.{i}.attn", nn.MultiheadAttention, {"embed_dim": e}),
                      (f"blocks.{i}.ln_2", nn.LayerNorm, {"normalized_shape": e}),
                      (f"blocks.{i}.fc", nn.Linear, {"nin": e, "nout": 4 * e}),
                      (f"blocks.{i}.proj", nn.Linear, {"nin": 4 * e, "nout": e})]
        parts += [("ln_f", nn.LayerNorm, {"normalized_shape": e}),
                  ("head", nn.Linear, {"nin": e, "nout": len(chars)})]
        return {f"{prefix}.{k}": shape for prefix, layer, sub in parts
                for k, shape in layer.state_shapes(sub).items()}

    def loss(self, x: np.ndarray, y: np.ndarray) -> Value:
        """Mean cross-entropy (nats/char) of the next-character predictions."""
        logits = self(x)
        return nn.cross_entropy(logits.reshape(-1, len(self.chars)), y.reshape(-1))

    def extra_repr(self) -> str:
        return (f"vocab {len(self.chars)}, block_size={self.block_size}, n_embd={self.n_embd}, "
                f"n_head={self.n_head}, n_layer={self.n_layer}, "
                f"parameters={self.num_parameters():,}")


def evaluate(model: TinyGPT, data: np.ndarray, batch: int = 64,
             starts: np.ndarray | None = None) -> float:
    """Mean loss in nats/char over the windows at `starts` (default: all of `data`, cut into
    consecutive windows of block_size), without building a graph."""
    block = model.block_size
    if starts is None:
        starts = np.arange(0, len(data) - block, block)
    total, count = 0.0, 0
    with no_grad():
        for i in range(0, len(starts), batch):
            x, y = windows(data, starts[i:i + batch], block)
            total += model.loss(x, y).item() * y.size
            count += y.size
    return total / count


# ---- training ------------------------------------------------------------------------------
def make_optimizer(model: TinyGPT, args: argparse.Namespace) -> tuple[nn.AdamW, Any]:
    """AdamW with weight decay on the matrices only (not on biases and LayerNorm gains),
    and its schedule: linear warm-up over `warmup` steps, then cosine decay to `min_lr`."""
    params = model.parameters()
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": args.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    opt = nn.AdamW(groups, lr=args.lr, betas=(0.9, 0.99))
    warmup = max(1, min(args.warmup, args.steps - 1))
    sched = SequentialLR(opt, [LinearLR(opt, start_factor=1.0 / warmup, total_iters=warmup),
                               CosineAnnealingLR(opt, T_max=max(1, args.steps - warmup),
                                                 eta_min=args.min_lr)], milestones=[warmup])
    return opt, sched


def train_step(model: TinyGPT, opt: nn.AdamW, sched: Any, x: np.ndarray, y: np.ndarray,
               clip: float) -> float:
    """One step: forward, loss, backward, clip the gradients' norm, AdamW, schedule."""
    opt.zero_grad()
    loss = model.loss(x, y)
    loss.backward()
    nn.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    sched.step()
    return loss.item()


def train(model: TinyGPT, train_data: np.ndarray, val_data: np.ndarray,
          args: argparse.Namespace) -> dict[str, Any]:
    """The training loop; returns what happened (steps, training seconds, why it stopped).
    The best weights by the validation estimate (`eval_windows` fixed windows) are in the
    model when it returns. tokens/s counts training time only, not the estimates."""
    opt, sched = make_optimizer(model, args)
    rng = np.random.default_rng(args.seed)
    val_starts = np.random.default_rng(1).integers(0, len(val_data) - model.block_size,
                                                   args.eval_windows)
    best = {"val": math.inf, "state": None, "step": 0}
    step, reason, running, evaluated = 0, "done", None, -1
    trained = since = 0.0  # seconds of training in all, and since the last progress line
    steps_since = 0

    def estimate() -> float:
        val = evaluate(model, val_data, starts=val_starts)
        if val < best["val"]:
            best.update(val=val, state=model.state_dict(), step=step)
        return val

    with CtrlC() as stop:  # the first Ctrl-C ends training after a whole step
        for step in range(1, args.steps + 1):
            t0 = time.perf_counter()
            x, y = random_batch(train_data, args.batch_size, model.block_size, rng)
            loss = train_step(model, opt, sched, x, y, args.clip)
            dt = time.perf_counter() - t0
            trained, since, steps_since = trained + dt, since + dt, steps_since + 1
            running = loss if running is None else 0.9 * running + 0.1 * loss
            val = None
            if step % args.eval_every == 0 or step == args.steps:
                val, evaluated = estimate(), step
            if val is not None or step % args.log_every == 0:
                rate = args.batch_size * model.block_size * steps_since / since
                shown = f"  val {val:.3f}" if val is not None else ""
                print(f"step {step:5d}/{args.steps}  loss {running:.3f}{shown}  "
                      f"lr {opt.param_groups[0]['lr']:.1e}  {rate:,.0f} tokens/s  "
                      f"{_clock(trained)}", flush=True)
                since, steps_since = 0.0, 0
            if args.max_minutes and trained > 60 * args.max_minutes:
                reason = f"time limit ({args.max_minutes:g} min)"
                break
            if stop.requested:
                reason = "interrupted (Ctrl-C)"
                break
    if step and evaluated != step:
        print(f"Estimating the validation loss of the last weights ({args.eval_windows} "
              f"windows)...", flush=True)
        estimate()  # the weights at the stop are a candidate too
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    return {"steps": step, "seconds": trained, "reason": reason, "best_step": best["step"],
            "best_estimate": best["val"]}


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


# ---- sampling ------------------------------------------------------------------------------
def generate(model: TinyGPT, prompt: str, n: int, temperature: float = 0.8,
             top_k: int | None = 20, seed: int | None = 0) -> str:
    """`n` characters continuing `prompt`, each drawn from softmax(logits / temperature)
    restricted to the `top_k` most likely; the context is the last block_size characters."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    try:
        ids = list(encode(prompt, model.chars))
    except ValueError as e:
        raise ValueError(f"the prompt {prompt!r} cannot be fed to this model: {e}") from None
    if not ids:
        raise ValueError("the prompt must hold at least one character")
    rng = np.random.default_rng(seed)
    vocab = len(model.chars)
    with no_grad():
        for _ in range(n):
            ctx = np.array(ids[-model.block_size:])[None]
            logits = np.asarray(model(ctx).data[0, -1], dtype=np.float64) / temperature
            if top_k and top_k < vocab:
                logits[logits < np.sort(logits)[-top_k]] = -np.inf
            p = np.exp(logits - logits.max())
            ids.append(int(rng.choice(vocab, p=p / p.sum())))
    return decode(ids, model.chars)


# ---- a learner's view ----------------------------------------------------------------------
def attention_weights(model: TinyGPT, ids: np.ndarray, layer: int = 0,
                      head: int = 0) -> np.ndarray:
    """One head's attention weights (T, T) for one sequence: row t is how position t spreads
    its attention over positions 0..t, ``softmax(q_t · k_s / √d)`` from the layer's own
    projection weights (torch's layout: rows q, k, v of ``w_in``)."""
    with no_grad():
        x = model.tok(ids[None]) + model.pos(np.arange(len(ids)))
        for block in model.blocks[:layer]:
            x = block(x)
        attn = model.blocks[layer].attn
        h = model.blocks[layer].ln_1(x).data[0]
    e, d = model.n_embd, model.n_embd // model.n_head
    w, b = attn.w_in.data, attn.b_in.data
    rows = slice(head * d, (head + 1) * d)
    q = h @ w[:e][rows].T + b[:e][rows]
    k = h @ w[e:2 * e][rows].T + b[e:2 * e][rows]
    scores = q @ k.T / math.sqrt(d)
    scores[np.triu_indices(len(ids), 1)] = -np.inf  # causal: no looking ahead
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


def save_attention_map(model: TinyGPT, text: str, path: str, layer: int = 0,
                       head: int = 0) -> str:
    """A heatmap of one head's attention over `text` (matplotlib, the `demos` extra)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit(f"--attention-map needs matplotlib: "
                         f"{extra_hint('demos')}") from None
    text = text[-model.block_size:]
    weights = attention_weights(model, encode(text, model.chars), layer, head)
    labels = [{"\n": "⏎", " ": "␣"}.get(c, c) for c in text]
    fig, ax = plt.subplots(figsize=(9, 8))
    im = ax.imshow(weights, cmap="viridis",  # square-root colours: small weights show too
                   norm=matplotlib.colors.PowerNorm(0.5, vmin=0.0, vmax=1.0))
    ax.set_xticks(range(len(text)), labels, fontsize=7, family="monospace")
    ax.set_yticks(range(len(text)), labels, fontsize=7, family="monospace")
    ax.set_xlabel("attends to (key position)")
    ax.set_ylabel("query position (predicting the next character)")
    ax.set_title(f"Layer {layer}, head {head}: softmax(q·k / √d) over each row's past")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    from autograd._files import atomic_write
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    return path


def explain_attention_score(path: str | None = None) -> str:
    """The document's softmax inside a transformer: in a tiny model (E = 4, one head, three
    characters) the attention weight a₃₁ of the third position on the first, as a graph of
    Values — ``score_s = q₃ · k_s / √d`` for each key s, then the softmax over the row —
    with its `explain()` text (and a drawing when `path` is given). The weight is checked
    against `attention_weights`, which computes it from the layer."""
    from autograd import draw_graph, explain
    model = TinyGPT("abc", block_size=3, n_embd=4, n_head=1, n_layer=1, seed=0,
                    dtype="float64")
    block, e = model.blocks[0], model.n_embd
    ids = np.array([0, 1, 2])
    with no_grad():
        h = block.ln_1(model.tok(ids[None]) + model.pos(np.arange(3))).data[0]
    x_last = Value(h[2], label="x₃")
    keys = Value(h, label="x")
    w, b = block.attn.w_in.data, block.attn.b_in.data
    q = x_last @ Value(w[:e].T, label="W_qᵀ") + Value(b[:e], label="b_q")
    q.label = "q₃"
    k = keys @ Value(w[e:2 * e].T, label="W_kᵀ") + Value(b[e:2 * e], label="b_k")
    k.label = "k"
    scores = (k @ q) * (1.0 / math.sqrt(e))
    scores.label = "scores"
    row = scores.softmax()
    row.label = "a₃"
    weight = row[0]
    weight.label = "a₃₁"
    weight.backward()
    expected = attention_weights(model, ids)[2, 0]
    assert abs(weight.item() - expected) < 1e-12, (weight.item(), expected)
    if path:
        from autograd import save_graph
        save_graph(weight, path)
    draw_graph(weight)  # builds without Graphviz's program; save_graph renders
    return explain(weight)


# ---- the command line ----------------------------------------------------------------------
MODEL_ARGS = {"block_size": 64, "n_embd": 64, "n_head": 4, "n_layer": 4}


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default; where it is None, the help text says what happens
    (the model options: the saved model's, else the value named), or "none"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None:
            text = action.help or ""
            return text if "default" in text else text + " (default: none)"
        return super()._get_help_string(action)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=_Help,
                                epilog="Time: at most --max-minutes of training (5 by default) "
                                       "plus about a minute to measure the validation loss; a "
                                       "few minutes on an idle 2-core machine.")
    m = p.add_argument_group("model (defaults, or the saved model's with --load)")
    m.add_argument("--block-size", type=int, help=f"context length (default "
                   f"{MODEL_ARGS['block_size']})")
    m.add_argument("--n-embd", type=int, help=f"embedding width (default {MODEL_ARGS['n_embd']})")
    m.add_argument("--n-head", type=int, help=f"attention heads (default {MODEL_ARGS['n_head']})")
    m.add_argument("--n-layer", type=int, help=f"blocks (default {MODEL_ARGS['n_layer']})")
    m.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="the weights' and activations' float type")
    t = p.add_argument_group("training")
    t.add_argument("--steps", type=int, default=600, help="optimizer steps (0: no training)")
    t.add_argument("--batch-size", type=int, default=16, help="windows per step")
    t.add_argument("--lr", type=float, default=1e-2, help="peak learning rate")
    t.add_argument("--min-lr", type=float, default=1e-3, help="learning rate at the end")
    t.add_argument("--warmup", type=int, default=50, help="linear warm-up steps")
    t.add_argument("--weight-decay", type=float, default=0.1, help="AdamW's, on matrices")
    t.add_argument("--clip", type=float, default=1.0, help="max gradient norm")
    t.add_argument("--max-minutes", type=float, default=5.0,
                   help="stop training after this long (0: no limit)")
    t.add_argument("--eval-every", type=int, default=100, help="steps between validation")
    t.add_argument("--eval-windows", type=int, default=64,
                   help="validation windows for the estimate during training")
    t.add_argument("--log-every", type=int, default=25, help="steps between progress lines")
    t.add_argument("--seed", type=int, default=0, help="weights and batches")
    f = p.add_argument_group("files and sampling")
    f.add_argument("--save", metavar="PATH", help="write the best model to PATH (.npz)")
    f.add_argument("--load", metavar="PATH", help="start from a saved model")
    f.add_argument("--generate", type=int, metavar="N",
                   help="sample N characters from the --load model and stop")
    f.add_argument("--samples", type=int, default=300, help="characters sampled after training")
    f.add_argument("--prompt", default="The ", help="text the samples continue")
    f.add_argument("--temperature", type=float, default=0.8, help="sampling temperature")
    f.add_argument("--top-k", type=int, default=20, help="sample among the k likeliest (0: all)")
    f.add_argument("--attention-map", metavar="PNG", help="heatmap of layer 0, head 0")
    f.add_argument("--explain-attention", metavar="SVG", nargs="?", const="",
                   help="explain (and draw, given a path) one attention score of a tiny "
                        "model, and stop")
    args = p.parse_args(argv)
    for name in ("steps", "batch_size", "warmup", "eval_every", "eval_windows", "log_every"):
        if getattr(args, name) < (0 if name in ("steps", "warmup") else 1):
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if args.generate is not None and not args.load:
        p.error("--generate N samples from a saved model: give it with --load PATH")
    return args


def build(args: argparse.Namespace, chars: str) -> TinyGPT:
    """A fresh model, or the --load one after checking it fits the options given."""
    asked = {k: getattr(args, k) for k in MODEL_ARGS if getattr(args, k) is not None}
    if not args.load:
        return TinyGPT(chars, **{**MODEL_ARGS, **asked}, seed=args.seed, dtype=args.dtype)
    try:
        model = TinyGPT.load(args.load)  # its shapes checked against the file's first
    except (nn.ModelFileError, ValueError, TypeError, OSError, MemoryError) as e:
        raise ValueError(f"--load {args.load}: {e}") from None
    saved = model.config()
    clash = {k: (v, saved[k]) for k, v in asked.items() if saved[k] != v}
    if clash:
        parts = ", ".join(f"--{k.replace('_', '-')} {v} (the file has {s})"
                          for k, (v, s) in clash.items())
        raise ValueError(f"--load {args.load} holds a TinyGPT of another configuration: "
                         f"{parts}; drop those options to use the saved model's")
    if chars is not None and model.chars != chars:
        raise ValueError(f"--load {args.load}: the model's vocabulary ({len(model.chars)} "
                         f"characters) is not this text's ({len(chars)})")
    return model


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return run(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.explain_attention is not None:
        print(explain_attention_score(args.explain_attention or None))
        if args.explain_attention:
            print(f"Wrote {Path(args.explain_attention).resolve()}")
        return 0
    if args.generate is not None:
        model = build(args, None)
        print(generate(model, args.prompt, args.generate, args.temperature, args.top_k,
                       args.seed))
        return 0
    text = load_text()
    chars = "".join(sorted(set(text)))
    train_data, val_data = split(encode(text, chars))
    uni, bi = baselines(train_data, val_data, len(chars))
    print(f"Text: pydoc_data.topics, {len(text):,} characters, {len(chars)} distinct; "
          f"train {len(train_data):,} / validation {len(val_data):,} (first 90% / last 10%)")
    print(f"Baselines on the validation text: unigram {uni:.3f}, bigram {bi:.3f} nats/char; "
          f"goal {GOAL} x bigram = {GOAL * bi:.3f}")
    model = build(args, chars)
    print(f"Model: {model.extra_repr()}, {model.dtype}")
    info: dict[str, Any] = {}
    if args.steps:
        limit = f"at most {args.max_minutes:g} min" if args.max_minutes else "no time limit"
        print(f"Training {args.steps} steps of {args.batch_size} x {model.block_size} "
              f"characters ({limit}; Ctrl-C stops and keeps the best weights); a few minutes "
              f"on an idle 2-core machine, more when it is busy.", flush=True)
        info = train(model, train_data, val_data, args)
        print(f"Stopped after {info['steps']} steps, {_clock(info['seconds'])} of training: "
              f"{info['reason']}; keeping the weights of step {info['best_step']} (validation "
              f"estimate {info['best_estimate']:.3f})")
    if info.get("reason", "").startswith("interrupted"):
        print("Training was interrupted: the numbers below are those of an unfinished run "
              "(its best weights so far).")
    print(f"Measuring the validation loss on all {len(val_data):,} characters (about a "
          f"minute on a busy 2-core machine; Ctrl-C twice to quit)...", flush=True)
    val = evaluate(model, val_data)
    met = val <= GOAL * bi
    print(f"Validation loss (all {len(val_data):,} characters): {val:.3f} nats/char = "
          f"{val / bi:.2f} x bigram ({bi:.3f}), {val / uni:.2f} x unigram; goal <= {GOAL}: "
          f"{'met' if met else 'missed'}")
    if args.save:
        model.save(args.save)
        print(f"Saved the model to {Path(args.save).resolve()}")
    if args.attention_map:
        sample = decode(val_data[:model.block_size], chars)
        print(f"Wrote the attention map to "
              f"{Path(save_attention_map(model, sample, args.attention_map)).resolve()}")
    if args.samples:
        print(f"Sample (temperature {args.temperature}, top-k {args.top_k}):")
        print(generate(model, args.prompt, args.samples, args.temperature, args.top_k,
                       args.seed))
    return 130 if info.get("reason", "").startswith("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
