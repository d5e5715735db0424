"""SGD and Adam: the document's update rule, torch.optim step for step, frozen parameters."""

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
]


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("kind,kwargs", CONFIGS)
def test_matches_torch_step_for_step(kind, kwargs, freeze):
    torch = pytest.importorskip("torch")
    ours_cls = nn.SGD if kind == "sgd" else nn.Adam
    theirs_cls = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    init = _initial()
    ours, _, _ = _run_ours(lambda p: ours_cls(p, **kwargs), 7, freeze)
    theirs = _run_torch(torch, lambda p: theirs_cls(p, **kwargs), 7, init, freeze)
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
