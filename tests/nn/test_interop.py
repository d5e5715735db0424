"""nn.to_torch, nn.from_torch and nn.export_onnx, layer by layer and on composed models:
outputs and input gradients against torch (float64, rtol 1e-9), round trips, and the ONNX
file through onnxruntime at two batch sizes (float32, rtol 1e-4)."""

import numpy as np
import pytest

import nn
from autograd import Value

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")




def _floats(*shape):
    return lambda rng, n: rng.normal(size=(n, *shape))


def _tokens(vocab, t):
    return lambda rng, n: rng.integers(0, vocab, size=(n, t))


def _batchnorm_with_stats(cls, c):
    """A BatchNorm whose running statistics are not the initial ones: two training batches."""
    def build(dtype):
        m = getattr(nn, cls)(c, dtype=dtype)
        rng = np.random.default_rng(5)
        shape = (6, c) if cls == "BatchNorm1d" else (6, c, 3, 3)
        for _ in range(2):
            m(rng.normal(2.0, 3.0, size=shape))
        m.w.data = rng.normal(size=c).astype(dtype)
        m.b.data = rng.normal(size=c).astype(dtype)
        return m.eval()
    return build


# (id, names needed in nn, build(dtype) -> model, input(rng, n))
CASES = [
    ("Layer-relu", (), lambda dt: nn.Layer(5, 4, "relu", seed=0, dtype=dt), _floats(5)),
    ("Layer-tanh", (), lambda dt: nn.Layer(5, 4, "tanh", seed=0, dtype=dt), _floats(5)),
    ("Layer-sigmoid", (), lambda dt: nn.Layer(5, 4, "sigmoid", seed=0, dtype=dt), _floats(5)),
    ("Layer-linear", (), lambda dt: nn.Layer(5, 4, "linear", seed=0, dtype=dt), _floats(5)),
    ("Neuron", (), lambda dt: nn.Neuron(5, "tanh", seed=0, dtype=dt), _floats(5)),
    ("MLP", (), lambda dt: nn.MLP(6, [8, 7, 3], seed=0, dtype=dt), _floats(6)),
    ("Dropout-eval", (), lambda dt: nn.Sequential(nn.Layer(4, 6, seed=0, dtype=dt),
                                                  nn.Dropout(0.5), nn.Layer(6, 2, "linear",
                                                                            seed=1, dtype=dt)
                                                  ).eval(), _floats(4)),
    ("Linear", ("Linear",), lambda dt: nn.Linear(5, 3, seed=0, dtype=dt), _floats(5)),
    ("Linear-nobias", ("Linear",), lambda dt: nn.Linear(5, 3, bias=False, seed=0, dtype=dt),
     _floats(5)),
    ("ReLU", ("ReLU",), lambda dt: nn.ReLU(dtype=dt), _floats(6)),
    ("Tanh", ("Tanh",), lambda dt: nn.Tanh(dtype=dt), _floats(6)),
    ("Sigmoid", ("Sigmoid",), lambda dt: nn.Sigmoid(dtype=dt), _floats(6)),
    ("LeakyReLU", ("LeakyReLU",), lambda dt: nn.LeakyReLU(0.2, dtype=dt), _floats(6)),
    ("GELU", ("GELU",), lambda dt: nn.GELU(dtype=dt), _floats(6)),
    ("Flatten", ("Flatten",), lambda dt: nn.Flatten(dtype=dt), _floats(2, 3, 2)),
    ("Conv1d", ("Conv1d",), lambda dt: nn.Conv1d(2, 3, 3, stride=2, padding=1, seed=0,
                                                 dtype=dt), _floats(2, 9)),
    ("Conv2d", ("Conv2d",), lambda dt: nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1,
                                                 seed=0, dtype=dt), _floats(2, 6, 5)),
    ("MaxPool1d", ("MaxPool1d",), lambda dt: nn.MaxPool1d(3, 2, dtype=dt), _floats(2, 9)),
    ("MaxPool2d", ("MaxPool2d",), lambda dt: nn.MaxPool2d(2, dtype=dt), _floats(2, 6, 4)),
    ("AvgPool2d", ("AvgPool2d",), lambda dt: nn.AvgPool2d((2, 3), stride=1, dtype=dt),
     _floats(2, 5, 6)),
    ("BatchNorm1d", ("BatchNorm1d",), _batchnorm_with_stats("BatchNorm1d", 4), _floats(4)),
    ("BatchNorm2d", ("BatchNorm2d",), _batchnorm_with_stats("BatchNorm2d", 3),
     _floats(3, 4, 4)),
    ("LayerNorm", ("LayerNorm",), lambda dt: nn.LayerNorm((3, 4), dtype=dt), _floats(2, 3, 4)),
    ("Embedding", ("Embedding",), lambda dt: nn.Embedding(11, 4, seed=0, dtype=dt),
     _tokens(11, 5)),
    ("MultiheadAttention", ("MultiheadAttention",),
     lambda dt: nn.MultiheadAttention(8, 2, seed=0, dtype=dt), _floats(5, 8)),
    ("RNN", ("RNN",), lambda dt: nn.RNN(3, 5, seed=0, dtype=dt), _floats(6, 3)),
    ("RNN-relu", ("RNN",), lambda dt: nn.RNN(3, 5, nonlinearity="relu", seed=0, dtype=dt),
     _floats(6, 3)),
    ("GRU", ("GRU",), lambda dt: nn.GRU(3, 5, seed=0, dtype=dt), _floats(6, 3)),
    ("LSTM", ("LSTM",), lambda dt: nn.LSTM(3, 5, seed=0, dtype=dt), _floats(6, 3)),
    ("GRU-bidirectional", ("GRU",),
     lambda dt: nn.GRU(3, 4, bidirectional=True, seed=0, dtype=dt), _floats(5, 3)),
    ("LSTM-bidirectional-nobias", ("LSTM",),
     lambda dt: nn.LSTM(3, 4, bias=False, bidirectional=True, seed=0, dtype=dt),
     _floats(5, 3)),
    # composed models
    ("CNN", ("Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear", "BatchNorm2d"),
     lambda dt: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0, dtype=dt),
                              _batchnorm_with_stats("BatchNorm2d", 4)(dt), nn.ReLU(dtype=dt),
                              nn.MaxPool2d(2, dtype=dt), nn.Flatten(dtype=dt),
                              nn.Dropout(0.3), nn.Linear(4 * 4 * 4, 10, seed=1, dtype=dt)
                              ).eval(), _floats(1, 8, 8)),
    ("GRU-classifier", ("GRU", "Linear"),
     lambda dt: nn.Sequential(nn.GRU(3, 8, seed=0, dtype=dt), nn.LastStep(),
                              nn.Linear(8, 4, seed=1, dtype=dt)), _floats(6, 3)),
    ("GRU-classifier-tokens", ("Embedding", "GRU", "Linear"),
     lambda dt: nn.Sequential(nn.Embedding(20, 6, seed=0, dtype=dt),
                              nn.GRU(6, 8, seed=1, dtype=dt), nn.LastStep(),
                              nn.Linear(8, 4, seed=2, dtype=dt)), _tokens(20, 7)),
    ("release3-groupnorm", ("GroupNorm", "Conv2d"),
     lambda dt: nn.Sequential(nn.Conv2d(2, 6, 3, padding=1, seed=0, dtype=dt),
                              nn.GroupNorm(3, 6, eps=1e-3, dtype=dt),
                              nn.GroupNorm(2, 6, affine=False, dtype=dt)),
     _floats(2, 5, 4)),
    ("release3-activations", ("ELU", "CELU", "SELU", "Softplus", "SiLU", "Mish", "Hardtanh",
                              "ReLU6", "Hardsigmoid", "Hardswish", "Softsign", "LogSigmoid",
                              "Identity"),
     lambda dt: nn.Sequential(nn.Linear(4, 6, seed=0, dtype=dt), nn.ELU(0.7, dtype=dt),
                              nn.Linear(6, 6, seed=1, dtype=dt), nn.CELU(1.5, dtype=dt),
                              nn.SELU(dtype=dt), nn.Softplus(2.0, 3.0, dtype=dt),
                              nn.SiLU(dtype=dt), nn.Mish(dtype=dt), nn.Identity(dtype=dt),
                              nn.Linear(6, 6, seed=2, dtype=dt), nn.Hardtanh(-0.5, 0.8, dtype=dt),
                              nn.Linear(6, 6, seed=3, dtype=dt), nn.ReLU6(dtype=dt),
                              nn.Hardsigmoid(dtype=dt), nn.Linear(6, 5, seed=4, dtype=dt),
                              nn.Hardswish(dtype=dt), nn.Softsign(dtype=dt),
                              nn.LogSigmoid(dtype=dt)),
     _floats(7, 4)),
    ("attention-block", ("MultiheadAttention", "LayerNorm", "Linear", "GELU"),
     lambda dt: nn.Sequential(nn.MultiheadAttention(8, 4, seed=0, dtype=dt),
                              nn.LayerNorm(8, dtype=dt), nn.Linear(8, 16, seed=1, dtype=dt),
                              nn.GELU(dtype=dt), nn.Linear(16, 8, seed=2, dtype=dt)),
     _floats(5, 8)),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def case(request):
    name, needs, build, make_input = request.param
    assert all(hasattr(nn, n) for n in needs), needs
    return name, build, make_input


def _flat(out):
    items = out if isinstance(out, tuple | list) else (out,)
    flat = []
    for item in items:
        flat.extend(item if isinstance(item, tuple | list) else (item,))
    return flat


def _ours(model, x, seeds):
    """Outputs and the input gradient (None for integer input) of our model."""
    xv = Value(x) if x.dtype.kind == "f" else x
    outs = _flat(model(xv))
    total = sum((o * s).sum() for o, s in zip(outs, seeds))
    total.backward()
    return [o.data for o in outs], (xv.grad if isinstance(xv, Value) else None)


def _theirs(t, x, seeds):
    tx = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    outs = _flat(t(tx))
    total = sum((o * torch.tensor(s)).sum() for o, s in zip(outs, seeds))
    total.backward()
    return [o.detach().numpy() for o in outs], (tx.grad.numpy() if tx.grad is not None
                                                  else None)


def _seeds(model, x, rng):
    return [rng.normal(size=np.shape(o.data)).astype(o.dtype) for o in _flat(model(x))]


def test_to_torch_gives_the_same_outputs_and_input_gradients(case):
    _, build, make_input = case
    rng = np.random.default_rng(1)
    model = _distinct(build(np.float64), rng)
    x = make_input(rng, 4)
    seeds = _seeds(model, x, rng)
    t = to = nn.to_torch(model)
    assert isinstance(to, torch.nn.Module) and t.training == model.training
    ours, ours_grad = _ours(model, x, seeds)
    theirs, theirs_grad = _theirs(t, x, seeds)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    if ours_grad is not None:
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-9, atol=1e-12)
    _same_parameter_gradients(model, t)


def _same_parameter_gradients(model, t):
    """Each parameter's gradient equals its torch twin's (twins found by their copied data:
    the names differ, w/weight, w_in/in_proj_weight...)."""
    twins = [(p.detach().numpy().ravel(), p.grad) for p in t.parameters()]
    assert len(twins) == len(model.parameters())
    for p in model.parameters():
        data = np.ravel(p.data)
        match = [g for d, g in twins if np.array_equal(d, data)]
        assert len(match) == 1, f"{len(match)} torch parameters hold {p.label}'s weights"
        np.testing.assert_allclose(np.ravel(p.grad), match[0].numpy().ravel(), rtol=1e-9,
                                   atol=1e-12)


def _distinct(model, rng):
    """Give every parameter random values of its own (ones and zeros repeat across layers:
    no twin could be told apart)."""
    for p in model.parameters():
        p.data = float(rng.normal()) if p.is_scalar else \
            rng.normal(size=p.shape).astype(p.dtype) * 0.5
    return model


def test_to_torch_keeps_float32_and_copies_the_weights(case):
    _, build, make_input = case
    model = build(np.float32)
    t = nn.to_torch(model)
    assert all(p.dtype == torch.float32 for p in t.parameters())
    x = make_input(np.random.default_rng(2), 3)
    tx = torch.tensor(x.astype(np.float32) if x.dtype.kind == "f" else x)
    out = [o.detach().numpy() for o in _flat(t(tx))]
    ours = [o.data for o in _flat(model(x.astype(np.float32) if x.dtype.kind == "f" else x))]
    for a, b in zip(ours, out):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    before = [np.array(p.data) for p in model.parameters()]
    with torch.no_grad():
        for p in t.parameters():
            p.add_(1.0)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


def test_from_torch_round_trip(case):
    _, build, make_input = case
    model = build(np.float64)
    back = nn.from_torch(nn.to_torch(model))
    assert isinstance(back, nn.Module) and back.training == model.training
    x = make_input(np.random.default_rng(3), 4)
    for a, b in zip(_flat(model(x)), _flat(back(x))):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-14)
        assert b.dtype == np.float64


@pytest.mark.parametrize("batch", [1, 7])
def test_export_onnx_runs_in_onnxruntime_at_any_batch_size(case, batch, tmp_path):
    _, build, make_input = case
    model = build(np.float32)
    rng = np.random.default_rng(4)
    path = nn.export_onnx(model, tmp_path / "model.onnx", make_input(rng, 3))
    onnx.checker.check_model(onnx.load(path), full_check=True)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = make_input(rng, batch)
    x = x.astype(np.float32) if x.dtype.kind == "f" else x.astype(np.int64)
    got = sess.run(None, {"input": x})
    model.eval()
    expect = _flat(model(x))
    assert len(got) == len(expect)
    for a, b in zip(got, expect):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b.data, rtol=1e-4, atol=1e-5)


def test_attention_keeps_its_causal_mask_in_torch():
    model = nn.MultiheadAttention(8, 2, seed=0)
    t = nn.to_torch(model)
    x = np.random.default_rng(0).normal(size=(3, 5, 8))
    ours = model(x, causal=True).data
    np.testing.assert_allclose(t(torch.tensor(x), causal=True).detach().numpy(), ours,
                               rtol=1e-9, atol=1e-12)
    assert not np.allclose(model(x).data, ours)


def test_recurrent_layers_take_an_initial_state_in_torch_as_here():
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    gru, lstm = nn.GRU(3, 5, seed=0), nn.LSTM(3, 5, seed=1)
    tx = torch.tensor(x)
    np.testing.assert_allclose(nn.to_torch(gru)(tx, torch.tensor(h0))[1].detach().numpy(),
                               gru(x, h0)[1].data, rtol=1e-9)
    (h, c) = nn.to_torch(lstm)(tx, (torch.tensor(h0), torch.tensor(c0)))[1]
    (oh, oc) = lstm(x, (h0, c0))[1]
    np.testing.assert_allclose(h.detach().numpy(), oh.data, rtol=1e-9)
    np.testing.assert_allclose(c.detach().numpy(), oc.data, rtol=1e-9)


def test_bare_torch_attention_and_recurrent_modules_come_here():
    torch.manual_seed(0)
    attn = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    lstm = torch.nn.LSTM(3, 4, batch_first=True).double()
    x = np.random.default_rng(0).normal(size=(2, 5, 8))
    np.testing.assert_allclose(nn.from_torch(attn)(x).data,
                               attn(*[torch.tensor(x)] * 3)[0].detach().numpy(), rtol=1e-9)
    out, (h, c) = lstm(torch.tensor(x[..., :3]))
    ours, (oh, oc) = nn.from_torch(lstm)(x[..., :3])
    np.testing.assert_allclose(ours.data, out.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(oh.data, h[0].detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(oc.data, c[0].detach().numpy(), rtol=1e-9)
    with pytest.raises(nn.ConversionError, match="batch_first=False"):
        nn.from_torch(torch.nn.MultiheadAttention(8, 2))


def test_batchnorm_running_statistics_go_both_ways_and_keep_updating_alike():
    model = _batchnorm_with_stats("BatchNorm1d", 3)(np.float64).train()
    t = nn.to_torch(model)
    batch = np.random.default_rng(9).normal(1.0, 2.0, size=(8, 3))
    model(batch)
    t(torch.tensor(batch))
    np.testing.assert_allclose(t.running_mean.numpy(), model.running_mean, rtol=1e-12)
    np.testing.assert_allclose(t.running_var.numpy(), model.running_var, rtol=1e-12)
    assert int(t.num_batches_tracked) == int(model.num_batches_tracked) == 3
    back = nn.from_torch(t)
    np.testing.assert_array_equal(back.running_var, t.running_var.numpy())


# ---- models written in PyTorch, brought here ----------------------------------------------

def test_a_torch_model_comes_here_with_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8),
                            torch.nn.Tanh(), torch.nn.Dropout(0.1), torch.nn.Linear(8, 3)
                            ).double().eval()
    model = nn.from_torch(t)
    assert isinstance(model, nn.Sequential) and not model.training
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "Tanh",
                                                 "Dropout", "Linear"]
    x = np.random.default_rng(0).normal(size=(5, 6))
    seeds = [np.random.default_rng(1).normal(size=(5, 3))]
    ours, g_ours = _ours(model, x, seeds)
    theirs, g_theirs = _theirs(t, x, seeds)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-9, atol=1e-12)


def test_a_torch_model_here_can_be_explained_and_drawn():
    from autograd import draw_graph, explain
    t = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    model = nn.from_torch(t)
    assert model[0].w.dtype == np.float32  # torch's default dtype, kept
    out = model([0.5, -1.0]).sum()
    out.backward()
    assert "=" in explain(out) and draw_graph(out).source.startswith("digraph")


def test_a_torch_model_saves_and_loads_here(tmp_path):
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model = nn.from_torch(t)
    back = nn.load(model.save(tmp_path / "m.npz"))
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(back(x).data, model(x).data)


# ---- refusals: what has no counterpart is named, never approximated ------------------------

class Doubler(nn.Module):
    def forward(self, x):
        return x * 2.0


class WiderLayer(nn.Layer):
    def forward(self, x):
        return super().forward(x) * 3.0


def test_to_torch_names_a_custom_module_and_asks_for_an_example_to_trace():
    model = nn.Sequential(nn.Layer(3, 3, seed=0), Doubler())
    with pytest.raises(nn.ConversionError, match=r"Doubler at 'layers\.1' has its own forward.*"
                                                 r"example_input"):
        nn.to_torch(model)
    with pytest.raises(nn.ConversionError, match="WiderLayer has its own forward"):
        nn.to_torch(WiderLayer(3, 3, seed=0))  # a subclass computes something else
    x = np.random.default_rng(0).normal(size=(4, 3))
    for m in (model, WiderLayer(3, 3, seed=0)):  # traced, it converts what it computes
        t = nn.to_torch(m, x)
        np.testing.assert_allclose(t(torch.tensor(x)).detach().numpy(), m(x).data, rtol=1e-12)


def test_export_onnx_traces_a_custom_module(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = nn.Sequential(Doubler(), nn.Layer(3, 2, seed=0))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    path = nn.export_onnx(model, tmp_path / "m.onnx", x)
    sess = ort.InferenceSession(str(path))
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], model(x).data, rtol=1e-5)


class TorchDoubler(torch.nn.Module):
    def forward(self, x):
        return x * 2


def test_from_torch_refuses_a_custom_torch_module_by_name_and_path():
    t = torch.nn.Sequential(torch.nn.Linear(3, 3), TorchDoubler())
    with pytest.raises(nn.ConversionError, match=r"TorchDoubler at '1' has no counterpart"):
        nn.from_torch(t)
    with pytest.raises(nn.ConversionError, match="num_layers"):
        nn.from_torch(torch.nn.GRU(3, 4, num_layers=2, batch_first=True))
    with pytest.raises(nn.ConversionError, match="dilation"):
        nn.from_torch(torch.nn.Conv2d(1, 1, 3, dilation=2))


def test_bad_arguments_are_type_errors():
    with pytest.raises(TypeError, match="needs an nn.Module"):
        nn.to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="needs a torch.nn.Module"):
        nn.from_torch(nn.Layer(2, 2))
    with pytest.raises(ValueError, match="must be a batch"):
        nn.export_onnx(nn.Layer(2, 2), "unused.onnx", np.zeros(2))


def test_core_import_does_not_need_torch_or_onnx():
    import subprocess
    import sys
    code = ("import sys, nn, autograd; nn.MLP(2, [3, 1])(__import__('numpy').ones(2)); "
            "assert 'torch' not in sys.modules and 'onnx' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- frozen weights, hooks, dtypes (issue 22) ----------------------------------------------
def _frozen_model():
    m = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.LayerNorm(4),
                      nn.Linear(4, 2, seed=2))
    m.layers[0].w.requires_grad = False
    m.layers[2].b.requires_grad = False
    return m


def test_frozen_parameters_stay_frozen_both_ways():
    model = _frozen_model()
    ours = {name: p.requires_grad for name, p in model.named_parameters()}
    assert not all(ours.values())
    t = nn.to_torch(model)
    theirs = [p.requires_grad for p in t.parameters()]
    assert theirs == list(ours.values())
    back = nn.from_torch(t)
    assert {n: p.requires_grad for n, p in back.named_parameters()} == ours
    # and a torch model frozen by the user comes here frozen: it learns nothing here either
    tm = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    tm[0].weight.requires_grad_(False)
    here = nn.from_torch(tm)
    flags = [p.requires_grad for p in here.parameters()]
    assert flags == [p.requires_grad for p in tm.parameters()] == [False, True, True, True]
    neuron = nn.Neuron(3, seed=0)
    neuron.b.requires_grad = False
    assert [p.requires_grad for p in nn.to_torch(neuron).parameters()] == [True, False]


@pytest.mark.parametrize("hook", ["forward", "forward_pre", "full_backward",
                                  "full_backward_pre"])
def test_a_module_with_a_hook_is_refused_by_name(hook):
    tm = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    fn = {"forward": lambda m, i, o: o * 100, "forward_pre": lambda m, i: i,
          "full_backward": lambda m, gi, go: gi, "full_backward_pre": lambda m, go: go}[hook]
    handle = getattr(tm[2], f"register_{hook}_hook")(fn)
    with pytest.raises(nn.interop.ConversionError, match=r"Linear at '2' has a .*hook"):
        nn.from_torch(tm)
    handle.remove()
    nn.from_torch(tm)  # without the hook it converts


def test_a_global_hook_is_refused():
    tm = torch.nn.Sequential(torch.nn.Linear(2, 3))
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: o)
    try:
        with pytest.raises(nn.interop.ConversionError, match="global"):
            nn.from_torch(tm)
    finally:
        handle.remove()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.complex64,
                                   torch.complex128])
def test_weights_that_are_not_float32_or_float64_are_refused_naming_the_layer(dtype):
    tm = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(),
                             torch.nn.Sequential(torch.nn.Linear(3, 1)))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: complex modules are experimental
        tm[2][0].to(dtype)
        with pytest.raises(nn.interop.ConversionError,
                           match=rf"Linear weight '2.0.weight' has dtype {dtype}"):
            nn.from_torch(tm)
