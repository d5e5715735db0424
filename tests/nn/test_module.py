"""Module: parameter discovery and names, modes, freezing, state dicts, Sequential, copies."""

import copy

import numpy as np
import pytest

import nn
from autograd import Value


class Pair(nn.Module):
    """A user-defined module mixing attributes, lists and dicts of sub-modules and Values."""

    def __init__(self):
        super().__init__()
        self.scale = Value(2.0)
        self.blocks = [nn.Layer(3, 4, seed=0), nn.Layer(4, 2, seed=1)]
        self.extra = {"head": nn.Neuron(2, seed=2)}
        self.note = "not a parameter"

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.extra["head"](x) * self.scale


def test_named_parameters_are_stable_and_readable():
    names = [n for n, _ in nn.MLP(4, [3, 2]).named_parameters()]
    assert names == ["layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b"]
    names = [n for n, _ in Pair().named_parameters()]
    assert names == ["scale", "blocks.0.w", "blocks.0.b", "blocks.1.w", "blocks.1.b",
                     "extra.head.w", "extra.head.b"]


def test_parameter_labels_are_their_names():
    model = nn.MLP(2, [3, 1])
    assert [p.label for p in model.parameters()] == [n for n, _ in model.named_parameters()]
    assert model.layers[1].b.label == "layers.1.b"


def test_parameters_count_and_identity():
    model = Pair()
    params = model.parameters()
    assert len(params) == 7
    assert params[1] is model.blocks[0].w
    assert model.num_parameters() == 1 + (12 + 4) + (8 + 2) + (2 + 1)


def test_shared_and_cyclic_references_do_not_loop_or_repeat():
    model = nn.MLP(2, [3, 1])
    model.again = model.layers[0]  # a shared sub-module
    model.layers[0].parent = model  # a cycle back to the root
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b"]
    assert len(list(model.modules())) == 3


class Wrap(nn.Module):
    def __init__(self, inner):
        self.inner = inner


def test_deep_nesting_has_no_recursion_limit():
    inner = nn.Neuron(1)
    for _ in range(5000):
        inner = Wrap(inner)
    names = [n for n, _ in inner.named_parameters()]
    assert names == [".".join(["inner"] * 5000 + ["w"]), ".".join(["inner"] * 5000 + ["b"])]
    inner.eval()
    assert not any(m.training for m in inner.modules())


def test_zero_grad_resets_every_parameter():
    model = nn.MLP(3, [4, 2], seed=0)
    nn.cross_entropy(model(np.ones((2, 3))), [0, 1]).backward()
    assert any(np.any(p.grad != 0) for p in model.parameters())
    model.zero_grad()
    assert all(np.all(p.grad == 0) for p in model.parameters())


def test_train_and_eval_propagate_to_children():
    model = Pair()
    assert model.training and model.blocks[0].training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.blocks[1].eval()
    assert model.training and not model.blocks[1].training


def test_freeze_stops_gradients_and_updates():
    model = nn.MLP(3, [4, 2], seed=0)
    model.layers[0].freeze()
    before = model.layers[0].w.data.copy(), model.layers[0].b.data.copy()
    head = model.layers[1].w.data.copy()
    opt = nn.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        nn.cross_entropy(model(np.ones((2, 3))), [0, 1]).backward()
        assert np.all(model.layers[0].w.grad == 0) and np.all(model.layers[0].b.grad == 0)
        opt.step()
    np.testing.assert_array_equal(model.layers[0].w.data, before[0])
    np.testing.assert_array_equal(model.layers[0].b.data, before[1])
    assert not np.array_equal(model.layers[1].w.data, head)
    assert not model.layers[0].w.requires_grad and model.layers[1].w.requires_grad
    model.unfreeze()
    nn.cross_entropy(model(np.ones((2, 3))), [0, 1]).backward()
    assert np.any(model.layers[0].w.grad != 0)


def test_state_dict_is_a_copy_keyed_by_name():
    model = nn.MLP(2, [3, 1], seed=0)
    state = model.state_dict()
    assert list(state) == ["layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b"]
    state["layers.0.w"][:] = 99.0
    assert not np.any(model.layers[0].w.data == 99.0)
    other = nn.MLP(2, [3, 1], seed=1)
    other.load_state_dict(model.state_dict())
    for a, b in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data is not b.data


def test_state_dict_with_scalar_parameter():
    neuron = nn.Neuron(2, seed=0)
    neuron.b.data = 0.25
    state = neuron.state_dict()
    assert state["b"].shape == ()
    fresh = nn.Neuron(2, seed=1)
    fresh.load_state_dict(state)
    assert fresh.b.is_scalar and fresh.b.data == 0.25


def test_load_state_dict_names_the_mismatch():
    model = nn.MLP(2, [3, 1])
    state = model.state_dict()
    del state["layers.1.b"]
    state["layers.2.w"] = np.ones(3)
    with pytest.raises(ValueError, match=r"missing keys \['layers.1.b'\].*unexpected keys "
                                         r"\['layers.2.w'\]"):
        model.load_state_dict(state)
    state = model.state_dict()
    state["layers.0.w"] = np.ones((2, 3))
    before = model.layers[0].b.data.copy()
    state["layers.0.b"] = before + 1
    with pytest.raises(ValueError, match=r"layers.0.w: expected shape \(3, 2\), got \(2, 3\)"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.layers[0].b.data, before)  # nothing half-loaded


def test_sequential_stacks_modules():
    seq = nn.Sequential(nn.Layer(2, 3, "tanh", seed=0), nn.Layer(3, 2, "linear", seed=1))
    assert len(seq) == 2 and seq[1].nout == 2
    assert [n for n, _ in seq.named_parameters()] == ["layers.0.w", "layers.0.b",
                                                       "layers.1.w", "layers.1.b"]
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    np.testing.assert_allclose(seq(x).data, seq[1](seq[0](x)).data)
    mlp = nn.MLP(2, [3, 2], activation="tanh")
    mlp.load_state_dict(seq.state_dict())  # same names: weights move between the two
    np.testing.assert_allclose(mlp(x).data, seq(x).data)
    with pytest.raises(TypeError, match="item 1"):
        nn.Sequential(nn.Layer(2, 2), "relu")


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1.0)


def test_sequential_with_dropout_follows_train_and_eval():
    seq = nn.Sequential(nn.Layer(3, 16, "relu", seed=0), nn.Dropout(0.5),
                        nn.Layer(16, 2, "linear", seed=1))
    x = np.ones((4, 3))
    reference = seq[2](seq[0](x)).data
    seq.eval()
    assert not seq[1].training
    np.testing.assert_array_equal(seq(x).data, reference)  # dropout is the identity
    seq.train()
    assert seq[1].training
    assert not np.allclose(seq(x).data, reference)
    assert [n for n, _ in seq.named_parameters()] == ["layers.0.w", "layers.0.b",
                                                      "layers.2.w", "layers.2.b"]


def test_buffers_travel_with_the_weights_but_are_not_parameters():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = Value(np.ones(2))
            self.register_buffer("seen", np.zeros(2))

    outer = nn.Sequential(Counter(), Counter())
    outer.layers[1].seen = np.array([3.0, 4.0])
    assert [n for n, _ in outer.named_parameters()] == ["layers.0.w", "layers.1.w"]
    assert [n for n, _ in outer.named_buffers()] == ["layers.0.seen", "layers.1.seen"]
    state = outer.state_dict()
    np.testing.assert_array_equal(state["layers.1.seen"], [3.0, 4.0])
    state["layers.1.seen"][0] = 99.0  # a copy
    assert outer.layers[1].seen[0] == 3.0
    fresh = nn.Sequential(Counter(), Counter())
    fresh.load_state_dict(outer.state_dict())
    np.testing.assert_array_equal(fresh.layers[1].seen, [3.0, 4.0])
    del state["layers.0.seen"]
    with pytest.raises(ValueError, match=r"missing keys \['layers.0.seen'\]"):
        fresh.load_state_dict(state)


# ---- a custom module's parameters carry their attribute paths ------------------------------
class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Layer(2, 2, "relu", seed=0)
        self.fc2 = nn.Layer(2, 1, "linear", seed=1)
        self.scale = Value(2.0)
        self.named = Value(1.0, label="γ")  # a label of one's own is kept

    def forward(self, x):
        return self.fc2(self.fc1(x)) * self.scale * self.named


def test_custom_module_parameters_are_labelled_by_their_path():
    net = TwoLayers()
    net(np.ones(2))  # labels are brought up to date when a module is called
    labels = {name: p.label for name, p in net.named_parameters()}
    assert labels == {"fc1.w": "fc1.w", "fc1.b": "fc1.b", "fc2.w": "fc2.w", "fc2.b": "fc2.b",
                      "scale": "scale", "named": "γ"}

    class Outer(nn.Module):  # nested: the whole path
        def __init__(self):
            super().__init__()
            self.blocks = [TwoLayers()]

        def forward(self, x):
            return self.blocks[0](x)

    outer = Outer()
    outer(np.ones(2))
    outer.blocks[0].fc1(np.ones(2))  # a part called alone keeps the full names
    assert {n: p.label for n, p in outer.named_parameters()} == {
        "blocks.0.scale": "blocks.0.scale", "blocks.0.named": "γ",
        "blocks.0.fc1.w": "blocks.0.fc1.w", "blocks.0.fc1.b": "blocks.0.fc1.b",
        "blocks.0.fc2.w": "blocks.0.fc2.w", "blocks.0.fc2.b": "blocks.0.fc2.b"}


def test_custom_module_labels_in_explain_and_draw_graph():
    from autograd import draw_graph, explain

    net = TwoLayers()
    net.fc1.b.data = np.array([0.5, 0.5])
    out = net(np.array([0.3, -0.2]))  # one sample: the step-by-step graph
    out.backward()
    text = explain(out)
    # two biases, two names, each made from its path (shown once beside the values)
    assert "dout/db_fc1[1] = " in text and "dout/db_fc2[1] = " in text
    assert "dout/dW_fc1[2,1] = " in text and "dout/dW_fc2[1,2] = " in text
    assert "\n  W_fc1 = [[" in text and "   (fc1.w)\n" in text and "\n  scale = 2" in text and "\n  γ = 1" in text
    source = draw_graph(out).source
    for name in ("fc1.w", "fc1.b", "fc2.w", "fc2.b", "scale", "γ"):
        assert name in source, name


def test_a_deep_copy_trains_beside_its_original():
    """copy.deepcopy(model) (an EMA or target network, repeated blocks): the copy computes
    what the original does and gets its own gradients, in the same graph as the original."""
    model = Pair()
    twin = copy.deepcopy(model)
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    (model(x).sum() + 2.0 * twin(x).sum()).backward()
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert q is not p
        np.testing.assert_allclose(q.grad, 2.0 * np.asarray(p.grad), rtol=1e-12, err_msg=name)
