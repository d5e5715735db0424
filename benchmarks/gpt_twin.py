"""The PyTorch twin of demos/tiny_gpt.py: the same model and training recipe in torch, its
weights copied from one of ours. The agreement test (tests/demos/test_tiny_gpt.py) trains
both on the same batches; the benchmark (run.py, workload 11) times one step of each.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def twin(model: Any, torch: Any) -> Any:
    """A torch module computing what `model` (a TinyGPT) computes, with its weights."""
    nn = torch.nn
    dtype = {"float32": torch.float32, "float64": torch.float64}[model.dtype]

    def t(v: Any) -> Any:
        return nn.Parameter(torch.tensor(np.array(v.data), dtype=dtype))

    class Block(nn.Module):
        def __init__(self, ours: Any) -> None:
            super().__init__()
            e = model.n_embd
            self.ln_1, self.ln_2 = nn.LayerNorm(e, dtype=dtype), nn.LayerNorm(e, dtype=dtype)
            self.attn = nn.MultiheadAttention(e, model.n_head, batch_first=True, dtype=dtype)
            self.fc = nn.Linear(e, 4 * e, dtype=dtype)
            self.proj = nn.Linear(4 * e, e, dtype=dtype)
            for mine, theirs in ((ours.ln_1, self.ln_1), (ours.ln_2, self.ln_2),
                                 (ours.fc, self.fc), (ours.proj, self.proj)):
                theirs.weight, theirs.bias = t(mine.w), t(mine.b)
            a = ours.attn
            self.attn.in_proj_weight, self.attn.in_proj_bias = t(a.w_in), t(a.b_in)
            self.attn.out_proj.weight, self.attn.out_proj.bias = t(a.w_out), t(a.b_out)

        def forward(self, x: Any) -> Any:
            n = x.shape[1]
            mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)  # True: not allowed
            h = self.ln_1(x)
            x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
            return x + self.proj(nn.functional.gelu(self.fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(len(model.chars), model.n_embd, dtype=dtype)
            self.pos = nn.Embedding(model.block_size, model.n_embd, dtype=dtype)
            self.tok.weight, self.pos.weight = t(model.tok.w), t(model.pos.w)
            self.blocks = nn.ModuleList([Block(b) for b in model.blocks])
            self.ln_f = nn.LayerNorm(model.n_embd, dtype=dtype)
            self.head = nn.Linear(model.n_embd, len(model.chars), dtype=dtype)
            self.ln_f.weight, self.ln_f.bias = t(model.ln_f.w), t(model.ln_f.b)
            self.head.weight, self.head.bias = t(model.head.w), t(model.head.b)

        def forward(self, idx: Any) -> Any:
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

        def loss(self, x: Any, y: Any) -> Any:
            logits = self(x)
            return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               y.reshape(-1))

    return GPT()


def optimizer(tmodel: Any, torch: Any, args: Any) -> tuple[Any, Any]:
    """torch's AdamW and schedule, as the demo's `make_optimizer` builds ours."""
    params = list(tmodel.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": args.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99))
    s = torch.optim.lr_scheduler
    warmup = max(1, min(args.warmup, args.steps - 1))
    sched = s.SequentialLR(opt, [s.LinearLR(opt, start_factor=1.0 / warmup, total_iters=warmup),
                                 s.CosineAnnealingLR(opt, T_max=max(1, args.steps - warmup),
                                                     eta_min=args.min_lr)],
                           milestones=[warmup])
    return opt, sched


def step(tmodel: Any, opt: Any, sched: Any, torch: Any, x: np.ndarray, y: np.ndarray,
         clip: float) -> float:
    """One training step of the twin: the demo's loop body, in torch."""
    opt.zero_grad()
    loss = tmodel.loss(torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(tmodel.parameters(), clip)
    opt.step()
    sched.step()
    return loss.item()
