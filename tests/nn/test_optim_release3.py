"""RMSprop, Adagrad and ReduceLROnPlateau against torch's, 20 steps each, and the import
graph of the optimizer modules (no cycle)."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import nn
from autograd import Value

torch = pytest.importorskip("torch", reason="the optimizers are checked against torch")

STEPS = 20
CONFIGS = {
    "rmsprop": ("RMSprop", {}),
    "rmsprop_all": ("RMSprop", {"lr": 0.02, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1,
                                "momentum": 0.8, "centered": True}),
    "rmsprop_momentum": ("RMSprop", {"momentum": 0.5}),
    "adagrad": ("Adagrad", {}),
    "adagrad_all": ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01,
                                "initial_accumulator_value": 0.3, "eps": 1e-8}),
}


def _run(name: str, kwargs: dict, ours_cls, theirs_cls, resume_at: int | None = None):
    rng = np.random.default_rng(len(name))
    w0 = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    grads = [[rng.normal(size=w.shape) for w in w0] for _ in range(STEPS)]
    ours = [Value(w.copy()) for w in w0]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    opt = ours_cls(ours, **kwargs)
    topt = theirs_cls(theirs, **kwargs)
    for t, gs in enumerate(grads):
        if resume_at == t:  # a fresh optimizer from the saved state continues exactly
            saved = opt.state_dict()
            opt = ours_cls(ours, **kwargs)
            opt.load_state_dict(saved)
        for p, tp, g in zip(ours, theirs, gs):
            p.grad = g.copy()
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-11, atol=1e-13)
    return opt, topt


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_optimizer_matches_torch_for_20_steps(name: str) -> None:
    cls, kwargs = CONFIGS[name]
    _run(name, kwargs, getattr(nn, cls), getattr(torch.optim, cls))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_resumes_exactly_and_loads_torchs(name: str) -> None:
    cls, kwargs = CONFIGS[name]
    opt, topt = _run(name, kwargs, getattr(nn, cls), getattr(torch.optim, cls), resume_at=9)
    ours = opt.param_groups[0]["params"]
    fresh = getattr(nn, cls)(ours, **kwargs)
    fresh.load_state_dict(topt.state_dict())  # torch's state, torch's layout
    for p, st in fresh.state.items():
        theirs = topt.state_dict()["state"][[id(q) for q in ours].index(id(p))]
        for key, value in st.items():
            np.testing.assert_allclose(value, np.asarray(theirs[key]), rtol=1e-12)


def test_scalar_parameters_step_as_floats() -> None:
    for cls in (nn.RMSprop, nn.Adagrad):
        p = Value(1.5)
        opt = cls([p], lr=0.1)
        for _ in range(3):
            p.grad = 0.5
            opt.step()
        tp = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
        topt = getattr(torch.optim, cls.__name__)([tp], lr=0.1)
        for _ in range(3):
            tp.grad = torch.tensor(0.5, dtype=torch.float64)
            topt.step()
        assert type(p.data) is float
        assert p.data == pytest.approx(tp.item(), rel=1e-12)


PLATEAU = {
    "default": {},
    "max_abs_cooldown": {"mode": "max", "threshold_mode": "abs", "threshold": 0.05,
                         "cooldown": 2, "patience": 1, "factor": 0.5},
    "min_lr": {"patience": 0, "factor": 0.3, "min_lr": [0.01, 0.001]},
}


@pytest.mark.parametrize("name", sorted(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(name: str) -> None:
    kwargs = PLATEAU[name]
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.9, 0.91, 0.8, 0.8, 0.81, 0.8,
               0.79, 0.8, 0.8, 0.8, 0.8, 0.8]
    if kwargs.get("mode") == "max":
        metrics = [-m for m in metrics]
    ours = nn.SGD([{"params": [Value([1.0])], "lr": 0.1}, {"params": [Value([2.0])],
                                                            "lr": 0.05}])
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
                              {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.05}])
    sched = nn.ReduceLROnPlateau(ours, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    for m in metrics:
        sched.step(m)
        tsched.step(m)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-11)
        np.testing.assert_allclose([g["lr"] for g in ours.param_groups],
                                   [g["lr"] for g in theirs.param_groups], rtol=1e-11)
    state = sched.state_dict()
    again = nn.ReduceLROnPlateau(ours, **kwargs)
    again.load_state_dict(state)
    assert again.best == sched.best and again.num_bad_epochs == sched.num_bad_epochs


def test_optimizer_modules_import_no_module_that_imports_them_back() -> None:
    """optim.py and lr_scheduler.py both build on optimizer.py, which imports neither."""
    root = pathlib.Path(nn.__file__).parent

    def imports(name: str) -> set[str]:
        tree = ast.parse((root / f"{name}.py").read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.add(node.module or "")
                found.update(a.name for a in node.names if not node.module)
        return found

    names = ("optim", "lr_scheduler", "optimizer")
    graph = {n: imports(n) & set(names) for n in names}
    for a in names:
        for b in graph[a]:
            assert a not in graph[b], f"{a} imports {b}, which imports {a} back"
    assert graph["optimizer"] == set()


@pytest.mark.parametrize("bad, message", [
    (lambda p: nn.RMSprop(p, alpha=-0.1), "alpha must be"),
    (lambda p: nn.Adagrad(p, lr_decay=-1), "lr_decay must be"),
    (lambda p: nn.ReduceLROnPlateau(nn.SGD(p), factor=1.5), "factor should be < 1.0"),
    (lambda p: nn.ReduceLROnPlateau(nn.SGD(p), mode="up"), "mode must be 'min' or 'max'"),
])
def test_bad_hyperparameters_are_named(bad, message) -> None:
    with pytest.raises(ValueError, match=message):
        bad([Value([1.0])])
