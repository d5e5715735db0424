"""SGD, Adam and AdamW: the document's update rule, torch.optim step for step (20 steps),
parameter groups, frozen parameters, state_dict resume, gradient clipping."""

import numpy as np
import pytest

import nn
from autograd import Value
from demos.document import DOG_X


def test_plain_sgd_is_the_document_rule():
    # new_w = old_w - learning_rate × dL/dw: 0.5 - 0.01 × 0.35 = 0.4965
    w = Value(0.5)
    w.grad = 0.35
    nn.SGD([w], lr=0.01).step()
    assert w.is_scalar and w.data == pytest.approx(0.4965, abs=1e-15)
    t = Value([0.5, 0.8])
    t.grad = np.array([0.3, -0.311])
    nn.SGD([t], lr=0.01).step()
    np.testing.assert_allclose(t.data, [0.497, 0.80311], atol=1e-15)


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 3))
    y = rng.integers(0, 2, size=8)
    return X, y


def _run_ours(make_opt, steps, freeze_first=False):
    X, y = _problem()
    model = nn.MLP(3, [4, 2], activation="tanh", seed=1)
    neuron = nn.Neuron(3, activation="linear", seed=2)  # adds a scalar parameter (its bias)
    neuron.b.data = 0.3
    if freeze_first:
        model.layers[0].freeze()
    params = model.parameters() + neuron.parameters()
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.cross_entropy(model(X), y) + (neuron(X) * neuron(X)).mean()
        loss.backward()
        opt.step()
    return [np.array(p.data) for p in params], model, params


def _run_torch(torch, make_opt, steps, init, freeze_first=False):
    X, y = _problem()
    params = [torch.tensor(np.array(a), requires_grad=True) for a in init]
    w1, b1, w2, b2, nw, nb = params
    if freeze_first:
        w1.requires_grad_(False)
        b1.requires_grad_(False)
    opt = make_opt(params)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        logits = torch.tanh(Xt @ w1.T + b1) @ w2.T + b2
        n = Xt @ nw + nb
        loss = torch.nn.functional.cross_entropy(logits, yt) + (n * n).mean()
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params]


def _initial():
    model = nn.MLP(3, [4, 2], activation="tanh", seed=1)
    neuron = nn.Neuron(3, activation="linear", seed=2)
    return [np.array(p.data) for p in model.parameters()] + [neuron.w.data.copy(),
                                                             np.array(0.3)]


CONFIGS = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.03, "betas": (0.85, 0.95), "eps": 1e-7, "weight_decay": 0.1}),
]
OURS = {"sgd": nn.SGD, "adam": nn.Adam, "adamw": nn.AdamW}
STEPS = 20


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("kind,kwargs", CONFIGS)
def test_matches_torch_step_for_step(kind, kwargs, freeze):
    torch = pytest.importorskip("torch")
    theirs_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
                  "adamw": torch.optim.AdamW}[kind]
    init = _initial()
    ours, _, _ = _run_ours(lambda p: OURS[kind](p, **kwargs), STEPS, freeze)
    theirs = _run_torch(torch, lambda p: theirs_cls(p, **kwargs), STEPS, init, freeze)
    for a, b, start in zip(ours, theirs, init):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    moved = [not np.array_equal(a, s) for a, s in zip(ours, init)]
    assert moved == ([False, False] if freeze else [True, True]) + [True] * 4


def test_frozen_and_gradless_parameters_are_skipped():
    a, b, c = Value([1.0, 2.0]), Value([3.0]), Value(4.0)
    a.grad = np.array([1.0, 1.0])
    b.requires_grad = False
    b.grad = np.array([5.0])  # a stale gradient on a frozen parameter must not be used
    for opt in (nn.SGD([a, b, c], lr=0.1, momentum=0.9), nn.Adam([a, b, c], lr=0.1)):
        opt.step()
    assert b.data[0] == 3.0 and c.data == 4.0
    assert np.all(a.data < [1.0, 2.0])


def test_step_does_not_modify_gradients():
    p = Value([1.0, -2.0, 3.0])
    q = Value([0.5, 0.5, 0.5])
    shared = np.array([0.1, 0.2, 0.3])
    p.grad = shared
    q.grad = shared  # one array under two parameters, as the engine may leave it
    for opt in (nn.SGD([p, q], lr=0.1, momentum=0.9, weight_decay=0.1),
                nn.Adam([p, q], lr=0.1, weight_decay=0.1)):
        opt.step()
        opt.step()
    np.testing.assert_array_equal(shared, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(p.grad, [0.1, 0.2, 0.3])


def test_zero_grad_and_module_argument():
    model = nn.MLP(2, [3, 2], seed=0)
    opt = nn.Adam(model, lr=0.01)  # a Module stands for its parameters
    assert opt.params == model.parameters()
    nn.cross_entropy(model([[1.0, 2.0]]), [1]).backward()
    opt.zero_grad()
    assert all(np.all(p.grad == 0) for p in model.parameters())


def test_sgd_trains_the_dog_cat_network():
    model = nn.MLP(4, [3, 2], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    x = DOG_X
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = nn.cross_entropy(model(x), 0)
        first = loss.item() if first is None else first
        loss.backward()
        opt.step()
    assert loss.item() < first / 2


def test_bad_arguments_are_refused():
    p = [Value([1.0])]
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.SGD([])
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        nn.SGD([np.zeros(2)])
    with pytest.raises(ValueError, match="lr"):
        nn.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        nn.SGD(p, momentum=-0.1)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        nn.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="pair"):
        nn.Adam(p, betas=0.9)


# ---- the same training loop, ours and torch's, with hooks for groups, clipping, schedules --
def _loss_ours(model, neuron, X, y):
    return nn.cross_entropy(model(X), y) + (neuron(X) * neuron(X)).mean()


def _fresh_ours():
    model = nn.MLP(3, [4, 2], activation="tanh", seed=1)
    neuron = nn.Neuron(3, activation="linear", seed=2)
    neuron.b.data = 0.3
    return model, neuron, model.parameters() + neuron.parameters()


def _train_ours(opt, params, model, neuron, steps, clip=None, sched=None):
    X, y = _problem()
    norms = []
    for _ in range(steps):
        opt.zero_grad()
        _loss_ours(model, neuron, X, y).backward()
        if clip is not None:
            norms.append(nn.clip_grad_norm_(params, clip))
        opt.step()
        if sched is not None:
            sched.step()
    return norms


def _train_torch(torch, make_opt, steps, clip=None, make_sched=None, groups=None):
    X, y = _problem()
    params = [torch.tensor(np.array(a), requires_grad=True) for a in _initial()]
    w1, b1, w2, b2, nw, nb = params
    opt = make_opt(params if groups is None else groups(params))
    sched = make_sched(opt) if make_sched else None
    Xt, yt = torch.tensor(X), torch.tensor(y)
    norms = []
    for _ in range(steps):
        opt.zero_grad()
        logits = torch.tanh(Xt @ w1.T + b1) @ w2.T + b2
        n = Xt @ nw + nb
        (torch.nn.functional.cross_entropy(logits, yt) + (n * n).mean()).backward()
        if clip is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(params, clip)))
        opt.step()
        if sched is not None:
            sched.step()
    return [p.detach().numpy() for p in params], norms, opt


def _split(params):
    """Two groups, the nanoGPT way: matrices decay, vectors and scalars do not."""
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0, "lr": 0.02}]


def test_parameter_groups_match_torch():
    torch = pytest.importorskip("torch")
    model, neuron, params = _fresh_ours()
    opt = nn.AdamW(_split(params), lr=0.01)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 4]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # the defaults fill the rest
    _train_ours(opt, params, model, neuron, STEPS)
    theirs, _, _ = _train_torch(torch, lambda g: torch.optim.AdamW(g, lr=0.01), STEPS,
                                groups=_split)
    for a, b in zip(params, theirs):
        np.testing.assert_allclose(a.data, b, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("max_norm", [0.05, 100.0])  # clipping every step, and never
def test_clip_grad_norm_in_training_matches_torch(max_norm):
    torch = pytest.importorskip("torch")
    model, neuron, params = _fresh_ours()
    ours_norms = _train_ours(nn.AdamW(params, lr=0.01), params, model, neuron, STEPS,
                             clip=max_norm)
    theirs, norms, _ = _train_torch(torch, lambda p: torch.optim.AdamW(p, lr=0.01), STEPS,
                                    clip=max_norm)
    np.testing.assert_allclose(ours_norms, norms, rtol=1e-11)
    assert (min(norms) > max_norm) == (max_norm < 1)
    for a, b in zip(params, theirs):
        np.testing.assert_allclose(a.data, b, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm_numbers_and_shared_gradients(norm_type):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5), np.array(0.7)]
    ours = [Value(np.zeros_like(g)) for g in grads[:2]] + [Value(0.0)]
    for p, g in zip(ours, grads):
        p.grad = float(g) if p.is_scalar else g.copy()
    shared = ours[1].grad
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g)
    total = nn.clip_grad_norm_(ours, 0.5, norm_type=norm_type)
    expect = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(float(expect), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(shared, grads[1])  # the old array was not written


def test_clip_grad_norm_edge_cases():
    p = Value([3.0, 4.0])
    assert nn.clip_grad_norm_([p], 1.0) == 0.0  # no gradient yet: nothing to clip
    p.grad = np.array([3.0, 4.0])
    assert nn.clip_grad_norm_(p, 10.0) == 5.0
    np.testing.assert_array_equal(p.grad, [3.0, 4.0])  # under the limit: untouched
    p.grad = np.array([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="total norm"):
        nn.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm"):
        nn.clip_grad_norm_([p], -1.0)


# ---- resuming: stop, save the state, rebuild, load, go on = never stopped ----------------
RESUMABLE = [(nn.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
             (nn.Adam, {"lr": 0.01, "weight_decay": 0.01}),
             (nn.AdamW, {"lr": 0.01, "weight_decay": 0.1})]


@pytest.mark.parametrize("cls,kwargs", RESUMABLE)
def test_stop_and_resume_gives_the_uninterrupted_weights(cls, kwargs, tmp_path):
    import pickle
    model, neuron, params = _fresh_ours()
    _train_ours(cls(params, **kwargs), params, model, neuron, STEPS)
    straight = [np.array(p.data) for p in params]

    model, neuron, params = _fresh_ours()
    opt = cls(params, **kwargs)
    _train_ours(opt, params, model, neuron, STEPS // 2)
    path = tmp_path / "checkpoint.pkl"
    path.write_bytes(pickle.dumps({"model": model.state_dict(), "neuron": neuron.state_dict(),
                                   "optimizer": opt.state_dict()}))
    _train_ours(opt, params, model, neuron, 3)  # steps after the checkpoint do not leak in

    saved = pickle.loads(path.read_bytes())
    model, neuron, params = _fresh_ours()
    model.load_state_dict(saved["model"])
    neuron.load_state_dict(saved["neuron"])
    opt = cls(params, **kwargs)
    opt.load_state_dict(saved["optimizer"])
    _train_ours(opt, params, model, neuron, STEPS - STEPS // 2)
    for a, b in zip(params, straight):
        np.testing.assert_array_equal(a.data, b)


def test_state_dict_layout_is_torch_s():
    torch = pytest.importorskip("torch")
    model, neuron, params = _fresh_ours()
    opt = nn.AdamW(_split(params), lr=0.01)
    _train_ours(opt, params, model, neuron, 2)
    ours = opt.state_dict()
    _, _, topt = _train_torch(torch, lambda g: torch.optim.AdamW(g, lr=0.01), 2, groups=_split)
    theirs = topt.state_dict()
    assert [g["params"] for g in ours["param_groups"]] == \
        [g["params"] for g in theirs["param_groups"]]
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i, st in ours["state"].items():
        assert set(st) == set(theirs["state"][i])
        assert st["step"] == int(theirs["state"][i]["step"])


def test_a_torch_optimizer_state_loads_and_continues_the_same():
    torch = pytest.importorskip("torch")
    _, _, topt = _train_torch(torch, lambda p: torch.optim.AdamW(p, lr=0.01), STEPS // 2)
    tparams = topt.param_groups[0]["params"]
    model, neuron, params = _fresh_ours()
    for p, t in zip(params, tparams):
        p.data = float(t.detach()) if p.is_scalar else t.detach().numpy().copy()
    opt = nn.AdamW(params, lr=0.01)
    opt.load_state_dict(topt.state_dict())
    _train_ours(opt, params, model, neuron, STEPS // 2)
    X, y = _problem()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w1, b1, w2, b2, nw, nb = tparams
    for _ in range(STEPS // 2):
        topt.zero_grad()
        logits = torch.tanh(Xt @ w1.T + b1) @ w2.T + b2
        n = Xt @ nw + nb
        (torch.nn.functional.cross_entropy(logits, yt) + (n * n).mean()).backward()
        topt.step()
    for a, b in zip(params, tparams):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-11, atol=1e-13)


def test_bad_state_dicts_are_refused_and_change_nothing():
    model, neuron, params = _fresh_ours()
    opt = nn.Adam(params, lr=0.01)
    _train_ours(opt, params, model, neuron, 2)
    good = opt.state_dict()
    other = nn.Adam(nn.MLP(3, [5, 2], seed=0), lr=0.01)
    with pytest.raises(ValueError, match="parameters"):
        other.load_state_dict(good)  # 6 parameters into 4
    bad = opt.state_dict()
    bad["state"][0]["exp_avg"] = np.zeros((2, 2))
    before = opt.state_dict()
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(2, 2\)"):
        opt.load_state_dict(bad)
    np.testing.assert_array_equal(opt.state[params[0]]["exp_avg"], before["state"][0]["exp_avg"])
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"weights": 1})
    with pytest.raises(ValueError, match="more than one parameter group"):
        nn.SGD([{"params": params[:2]}, {"params": params[1:]}])
    with pytest.raises(ValueError, match="unknown keys"):
        nn.SGD([{"params": params, "betas": (0.9, 0.9)}])
    opt.lr = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5]


@pytest.mark.parametrize("cls", [nn.Adam, nn.AdamW])
def test_flat_update_is_one_parameter_at_a_time_exactly(cls):
    """Adam's step over flat buffers gives the bits the per-parameter rule gives, also for a
    parameter that starts later (its own step count) and after a state_dict round trip."""
    rng = np.random.default_rng(3)
    shapes = [(4, 3), (3,), (2, 5)]
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(4)]
    flat = [Value(w.copy()) for w in start]
    single = [Value(w.copy()) for w in start]
    opt = cls(flat, lr=0.01, weight_decay=0.1)
    ref = cls(single, lr=0.01, weight_decay=0.1)
    for k, gs in enumerate(grads):
        for ps in (flat, single):
            for i, (p, g) in enumerate(zip(ps, gs)):
                p.grad = None if (k == 0 and i == 2) else g  # the last joins at step 2
        opt.step()
        for p in single:  # the reference: the per-parameter rule, one by one
            if p._grad is not None:
                ref._update(p, p.grad, ref.state.setdefault(p, {}), ref.param_groups[0])
        if k == 1:
            snapshot = opt.state_dict()
            opt = cls(flat, lr=0.01, weight_decay=0.1)
            opt.load_state_dict(snapshot)
        for a, b in zip(flat, single):
            np.testing.assert_array_equal(a.data, b.data)
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    opt.step()  # the state dict holds copies: a later step does not move them
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)
    assert not np.array_equal(opt.state[flat[0]]["exp_avg"], before)
    assert saved["state"][0]["step"] == 4 and saved["state"][2]["step"] == 3
