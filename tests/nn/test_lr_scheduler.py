"""Learning-rate schedules against torch.optim.lr_scheduler, step for step (20 steps)."""

import itertools
import math

import numpy as np
import pytest

import nn
from autograd import Value
from nn.optim import lr_scheduler as ls

STEPS = 20


def _groups_ours():
    return [{"params": [Value([1.0, 2.0])], "lr": 0.1}, {"params": [Value([3.0])], "lr": 0.02}]


def _groups_torch(torch):
    return [{"params": [torch.zeros(2, requires_grad=True)], "lr": 0.1},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02}]


def _warmup(kind, opt, mod):
    warm = mod.LinearLR(opt, start_factor=0.01, total_iters=5)
    cos = mod.CosineAnnealingLR(opt, T_max=STEPS - 5, eta_min=1e-3)
    return mod.SequentialLR(opt, [warm, cos], milestones=[5])


SCHEDULES = {
    "lambda": lambda opt, mod: mod.LambdaLR(opt, lambda t: 0.9 ** t + 0.05 * (t % 3)),
    "step": lambda opt, mod: mod.StepLR(opt, step_size=4, gamma=0.5),
    "linear": lambda opt, mod: mod.LinearLR(opt, start_factor=0.25, end_factor=0.75,
                                            total_iters=8),
    "cosine": lambda opt, mod: mod.CosineAnnealingLR(opt, T_max=STEPS, eta_min=0.001),
    "cosine_past_T_max": lambda opt, mod: mod.CosineAnnealingLR(opt, T_max=7),
    "warmup_cosine": lambda opt, mod: _warmup(None, opt, mod),
}


@pytest.mark.parametrize("opt_name", ["SGD", "AdamW"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_matches_torch_step_for_step(name, opt_name):
    torch = pytest.importorskip("torch")
    ours_opt = getattr(nn, opt_name)(_groups_ours())
    theirs_opt = getattr(torch.optim, opt_name)(_groups_torch(torch))
    ours = SCHEDULES[name](ours_opt, ls)
    theirs = SCHEDULES[name](theirs_opt, torch.optim.lr_scheduler)
    for t in range(STEPS + 1):
        expect = theirs.get_last_lr()
        np.testing.assert_allclose(ours.get_last_lr(), expect, rtol=1e-12, err_msg=f"step {t}")
        np.testing.assert_allclose([g["lr"] for g in ours_opt.param_groups], expect, rtol=1e-12)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


def test_warmup_then_cosine_shape():
    opt = nn.AdamW([Value([1.0])], lr=1.0)
    sched = _warmup(None, opt, ls)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(STEPS):
        sched.step()
        lrs.append(opt.lr)
    assert lrs[0] == pytest.approx(0.01)
    assert lrs[5] == pytest.approx(1.0)  # warm-up done: the full rate
    assert all(a < b for a, b in itertools.pairwise(lrs[:6]))  # rising
    assert all(a > b for a, b in itertools.pairwise(lrs[5:]))  # then falling
    assert lrs[STEPS] == pytest.approx(1e-3)
    assert lrs[5 + 7] == pytest.approx(1e-3 + (1 - 1e-3) * (1 + math.cos(math.pi * 7 / 15)) / 2)


def test_state_dict_resumes_the_schedule():
    opt = nn.SGD([Value([1.0])], lr=1.0)
    sched = _warmup(None, opt, ls)
    for _ in range(7):
        sched.step()
    saved = sched.state_dict()
    later = []
    for _ in range(5):
        sched.step()
        later.append(opt.lr)
    opt2 = nn.SGD([Value([1.0])], lr=1.0)
    sched2 = _warmup(None, opt2, ls)
    sched2.load_state_dict(saved)
    again = []
    for _ in range(5):
        sched2.step()
        again.append(opt2.lr)
    assert again == later


def test_bad_arguments_are_refused():
    opt = nn.SGD([Value([1.0])], lr=1.0)
    with pytest.raises(TypeError, match="nn optimizer"):
        ls.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="T_max"):
        ls.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="start_factor"):
        ls.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="one milestone fewer"):
        ls.SequentialLR(opt, [ls.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="one function"):
        ls.LambdaLR(opt, [lambda t: 1.0, lambda t: 2.0])
    assert nn.optim.CosineAnnealingLR is ls.CosineAnnealingLR
