"""Saving and loading: bit-for-bit round trips, architecture checks, refusals."""

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

import nn
import nn.data
from nn.module import REGISTRY


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype
        np.testing.assert_array_equal(sa[k], sb[k])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_round_trip_is_bit_for_bit(tmp_path, dtype):
    model = nn.MLP(3, [5, 4, 2], activation="tanh", seed=0, dtype=dtype)
    path = tmp_path / "model.npz"
    assert model.save(path) == str(path)
    for loaded in (nn.MLP.load(path), nn.load(path), nn.Module.load(str(path))):
        assert type(loaded) is nn.MLP
        assert loaded.nin == 3 and loaded.nouts == [5, 4, 2]
        assert loaded.activation == "tanh" and loaded.dtype == dtype
        assert [la.activation for la in loaded.layers] == ["tanh", "tanh", "linear"]
        _same_weights(model, loaded)
        X = np.random.default_rng(1).standard_normal((4, 3))
        np.testing.assert_array_equal(loaded(X).data, model(X).data)
        assert loaded.layers[0].w.label == "layers.0.w"


def test_trained_weights_survive(tmp_path):
    model = nn.MLP(2, [4, 2], seed=3)
    opt = nn.Adam(model.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        nn.cross_entropy(model([[0.0, 1.0], [1.0, 0.0]]), [1, 0]).backward()
        opt.step()
    model.save(tmp_path / "m.npz")
    _same_weights(model, nn.load(tmp_path / "m.npz"))


def test_layer_neuron_and_sequential_round_trip(tmp_path):
    neuron = nn.Neuron(3, activation="sigmoid", seed=0)
    neuron.b.data = -0.75
    seq = nn.Sequential(nn.Layer(2, 3, "relu", seed=0), nn.Layer(3, 1, "sigmoid", seed=1))
    for model in (neuron, nn.Layer(4, 2, activation="linear", seed=2), seq):
        path = tmp_path / f"{type(model).__name__}.npz"
        model.save(path)
        loaded = nn.load(path)
        assert type(loaded) is type(model)
        _same_weights(model, loaded)
    assert nn.load(tmp_path / "Neuron.npz").b.data == -0.75
    assert nn.load(tmp_path / "Sequential.npz")[1].activation == "sigmoid"


def test_save_is_atomic_and_overwrites(tmp_path):
    path = tmp_path / "model.npz"
    nn.MLP(2, [3, 2], seed=0).save(path)
    second = nn.MLP(2, [3, 2], seed=1)
    second.save(path)
    _same_weights(second, nn.load(path))
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind
    with pytest.raises(FileNotFoundError):
        second.save(tmp_path / "no" / "such" / "dir" / "m.npz")
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_refuses_another_architecture(tmp_path):
    path = tmp_path / "seq.npz"
    nn.Sequential(nn.Layer(2, 2, seed=0)).save(path)
    with pytest.raises(nn.ModelFileError, match="holds a model of class Sequential, not MLP"):
        nn.MLP.load(path)
    nn.Layer(2, 2, seed=0).save(tmp_path / "layer.npz")
    with pytest.raises(ValueError, match="not MLP"):
        nn.MLP.load(tmp_path / "layer.npz")


def test_refuses_files_that_are_not_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        nn.load(tmp_path / "missing.npz")
    text = tmp_path / "notes.txt"
    text.write_text("weights: 0.5, 0.8\n")
    with pytest.raises(nn.ModelFileError, match="not an .npz archive"):
        nn.load(text)
    random_npz = tmp_path / "random.npz"
    np.savez(random_npz, a=np.ones(3), b=np.zeros((2, 2)))
    with pytest.raises(nn.ModelFileError, match="not a model saved by nn"):
        nn.MLP.load(random_npz)
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(nn.ModelFileError, match="single .npy array"):
        nn.load(npy)


def test_refuses_weights_that_do_not_fit_the_record(tmp_path):
    path = tmp_path / "m.npz"
    nn.MLP(2, [3, 2], seed=0).save(path)
    with np.load(path) as f:
        arrays = dict(f)
    arrays["param/layers.0.w"] = np.ones((4, 2))  # tampered: 4 rows, the record says 3
    np.savez(path, **arrays)
    with pytest.raises(nn.ModelFileError, match=r"do not fit.*layers.0.w: expected shape \(3, 2\)"):
        nn.MLP.load(path)
    del arrays["param/layers.1.b"]
    arrays["param/layers.0.w"] = np.ones((3, 2))
    np.savez(path, **arrays)
    with pytest.raises(nn.ModelFileError, match=r"missing keys \['layers.1.b'\]"):
        nn.load(path)


def test_refuses_a_broken_architecture_record(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, __model__=np.array("{not json"))
    with pytest.raises(nn.ModelFileError, match="not valid JSON"):
        nn.load(path)
    np.savez(path, __model__=np.array('{"format": "something-else"}'))
    with pytest.raises(nn.ModelFileError, match="format"):
        nn.load(path)
    np.savez(path, __model__=np.array(
        '{"format": "nn-autograd-model", "version": 1, "class": "Evil", "config": {}}'))
    with pytest.raises(nn.ModelFileError, match="unknown model class 'Evil'"):
        nn.load(path)


def test_sequential_with_dropout_round_trip(tmp_path):
    seq = nn.Sequential(nn.Layer(2, 4, "tanh", seed=0), nn.Dropout(0.25),
                        nn.Layer(4, 2, "linear", seed=1))
    seq.save(tmp_path / "seq.npz")
    loaded = nn.load(tmp_path / "seq.npz")
    assert [type(m).__name__ for m in loaded] == ["Layer", "Dropout", "Layer"]
    assert loaded[1].p == 0.25
    _same_weights(seq, loaded)
    x = np.array([[0.3, -0.2]])
    np.testing.assert_array_equal(loaded.eval()(x).data, seq.eval()(x).data)


# ---- hostile and damaged files: each a ModelFileError naming the file and the fault -------

def _record(cls, config):
    return np.array(json.dumps({"format": "nn-autograd-model", "version": 1, "class": cls,
                                "config": config}))


class Pwned(nn.Module):  # any Module subclass in the process, never registered
    built = False

    def __init__(self, **kwargs):
        super().__init__()
        Pwned.built = True


def test_only_registered_classes_are_built(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __model__=_record("Pwned", {}))
    with pytest.raises(nn.ModelFileError, match=r"evil.npz.*unknown model class 'Pwned' \(a "
                       r"class Pwned is defined in .*test_io, but not registered\).*"
                       r"classes=\[Pwned\].*@nn.register"):
        nn.load(path)
    seq = tmp_path / "seq.npz"  # nor inside a container
    np.savez(seq, __model__=_record("Sequential", {"modules": [{"class": "Pwned",
                                                                "config": {}}]}))
    with pytest.raises(nn.ModelFileError, match="unknown model class 'Pwned'"):
        nn.load(seq)
    assert not Pwned.built
    assert type(nn.load(path, classes=[Pwned])) is Pwned  # asked for explicitly: built
    assert type(nn.load(seq, classes={"Pwned": Pwned})[0]) is Pwned


def test_a_huge_config_is_refused_before_anything_is_allocated(tmp_path):
    path = tmp_path / "huge.npz"
    np.savez(path, __model__=_record("MLP", {"nin": 1_000_000, "nouts": [1_000_000]}),
             **{"param/layers.0.w": np.zeros((1, 1)), "param/layers.0.b": np.zeros(1)})
    assert path.stat().st_size < 2000
    tracemalloc.start()
    try:
        with pytest.raises(nn.ModelFileError, match=r"huge.npz.*layers.0.w: expected shape "
                           r"\(1000000, 1000000\), got \(1, 1\)"):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_an_array_header_larger_than_its_bytes_is_refused_unread(tmp_path):
    header = np.lib.format.header_data_from_array_1_0(np.zeros((3, 2)))
    header["shape"] = (10**12, 2)  # claims 16 TB, holds 48 bytes
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, header)
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__model__.npy", _npy(_record("MLP", {"nin": 2, "nouts": [3]})))
        zf.writestr("param/layers.0.w.npy", npy.getvalue() + np.zeros((3, 2)).tobytes())
        zf.writestr("param/layers.0.b.npy", _npy(np.zeros(3)))
    tracemalloc.start()
    try:
        with pytest.raises(nn.ModelFileError, match=r"liar.npz.*'param/layers.0.w' claims "
                           r"shape \(1000000000000, 2\) .* holds 48 bytes"):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_a_flipped_byte_is_a_model_file_error(tmp_path):
    path = tmp_path / "m.npz"
    nn.MLP(2, [3, 2], seed=0).save(path)
    raw = bytearray(path.read_bytes())
    with np.load(path) as f:
        arr = f["param/layers.0.w"]
    i = raw.index(arr.tobytes())  # a byte inside the stored weights: only the CRC can tell
    raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(nn.ModelFileError, match=r"m.npz.*damaged.*layers.0.w.*BadZipFile"):
        nn.load(path)


def test_a_broken_npy_header_is_a_model_file_error(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__model__.npy", np.lib.format.magic(1, 0) + b"\x46\x00{'descr': '<f8', "
                    b"'fortran_order': False, 'shape': (3,(" + b" " * 16 + b"\n")
    with pytest.raises(nn.ModelFileError, match=r"m.npz.*damaged.*'__model__' cannot be read"):
        nn.load(path)


def test_an_object_array_is_a_model_file_error(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, __model__=_record("Neuron", {"nin": 2}),
             **{"param/w": np.array([1, "x"], dtype=object), "param/b": np.zeros(())})
    with pytest.raises(nn.ModelFileError, match=r"m.npz.*'param/w' has dtype object"):
        nn.load(path)


def test_a_deeply_nested_sequential_is_a_model_file_error(tmp_path):
    head = '{"class": "Sequential", "config": {"modules": ['
    text = (head * 400) + "]}}" * 400  # 400 Sequentials, each inside the last
    record = json.loads(_record("Sequential", {}).item())
    record["config"] = "CONFIG"
    path = tmp_path / "deep.npz"
    np.savez(path, __model__=np.array(json.dumps(record).replace(
        '"CONFIG"', '{"modules": [' + text + "]}")))
    with pytest.raises(nn.ModelFileError, match=r"deep.npz.*nests"):
        nn.load(path)


def test_saving_a_model_of_ones_own_class(tmp_path):
    """The pattern README documents: config() returns the constructor arguments."""

    @nn.register
    class TwoLayer(nn.Module):
        def __init__(self, nin, hidden):
            super().__init__()
            self.nin, self.hidden = nin, hidden
            self.fc1 = nn.Layer(nin, hidden, seed=0)
            self.fc2 = nn.Layer(hidden, 1, "linear", seed=1)

        def forward(self, x):
            return self.fc2(self.fc1(x))

    model = TwoLayer(3, 4)
    model.save(tmp_path / "net.npz")
    loaded = nn.load(tmp_path / "net.npz")
    assert type(loaded) is TwoLayer
    _same_weights(model, loaded)
    with pytest.raises(ValueError, match="name of the library's nn.layers.MLP"):
        nn.register(type("MLP", (nn.Module,), {}))


# A small instance of every class the library registers for nn.load (a new class needs one).
_EXAMPLES = {
    "MLP": lambda: nn.MLP(3, [4, 2], seed=0), "Neuron": lambda: nn.Neuron(3, seed=0),
    "Layer": lambda: nn.Layer(3, 4, seed=0), "Linear": lambda: nn.Linear(3, 4, seed=0),
    "Dropout": nn.Dropout,
    "Sequential": lambda: nn.Sequential(nn.Layer(3, 4, seed=0), nn.Dropout(0.1),
                                        nn.Layer(4, 2, seed=1)),
    "Embedding": lambda: nn.Embedding(7, 3, seed=0), "RNN": lambda: nn.RNN(3, 4, seed=0),
    "GRU": lambda: nn.GRU(3, 4, bias=False, seed=0),
    "LSTM": lambda: nn.LSTM(3, 4, bidirectional=True, seed=0),
    "MultiheadAttention": lambda: nn.MultiheadAttention(4, 2, seed=0),
    "Conv1d": lambda: nn.Conv1d(2, 3, 4, seed=0),
    "Conv2d": lambda: nn.Conv2d(2, 3, (2, 3), stride=2, padding=1, bias=False, seed=0),
    "BatchNorm1d": lambda: nn.BatchNorm1d(5), "BatchNorm2d": lambda: nn.BatchNorm2d(3),
    "LayerNorm": lambda: nn.LayerNorm((2, 3), bias=False),
    "MaxPool1d": lambda: nn.MaxPool1d(2), "MaxPool2d": lambda: nn.MaxPool2d((2, 3), 1),
    "AvgPool2d": lambda: nn.AvgPool2d(2), "Flatten": nn.Flatten, "LastStep": nn.LastStep,
    "ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "GELU": nn.GELU,
    "LeakyReLU": lambda: nn.LeakyReLU(0.2), "ScalePixels": nn.data.ScalePixels,
    "Standardizer": lambda: nn.data.Standardizer().fit(np.arange(12.0).reshape(4, 3)),
}
_LIBRARY = sorted(name for name, c in REGISTRY.items()
                  if c.__module__.startswith("nn.") and not name.startswith("_"))


@pytest.mark.parametrize("name", _LIBRARY)
def test_state_shapes_are_the_built_models_shapes(name):
    """What nn.load checks before building is exactly what building would make, for every
    class the library registers (so none is built from a file before its shapes are checked)."""
    assert name in _EXAMPLES, f"add a small {name} to _EXAMPLES"
    model = _EXAMPLES[name]()
    assert type(model).__name__ == name
    expected = type(model).state_shapes(model.config())
    assert expected == {k: v.shape for k, v in model.state_dict().items()}
    if name == "Sequential":  # also one with no weights at all
        empty = nn.Sequential(nn.ReLU(), nn.Flatten())
        assert type(empty).state_shapes(empty.config()) == {}


@pytest.mark.parametrize("cls, config", [
    ("Conv2d", {"in_channels": 10**6, "out_channels": 10**6, "kernel_size": 3}),
    ("BatchNorm2d", {"num_features": 10**9}),
    ("LayerNorm", {"normalized_shape": [10**5, 10**5]}),
    ("Sequential", {"modules": [{"class": "ReLU", "config": {}},
                                {"class": "Conv1d", "config": {"in_channels": 10**6,
                                 "out_channels": 10**6, "kernel_size": 9}}]}),
])
def test_a_tiny_hostile_config_of_a_layer_is_refused_without_allocating(tmp_path, cls, config):
    path = tmp_path / "hostile.npz"
    key = "param/layers.1.w" if cls == "Sequential" else "param/w"
    np.savez(path, __model__=_record(cls, config), **{key: np.zeros((1, 1))})
    assert path.stat().st_size < 2000
    tracemalloc.start()
    try:
        with pytest.raises(nn.ModelFileError, match=r"hostile.npz.*do not fit.*expected shape"):
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


@pytest.mark.parametrize("cls, config", [
    ("Embedding", {"num_embeddings": 10**7, "embedding_dim": 10**6}),
    ("LSTM", {"input_size": 10**6, "hidden_size": 10**6}),
    ("MultiheadAttention", {"embed_dim": 10**6, "num_heads": 1}),
])
def test_huge_configs_of_other_layers_are_refused_before_building(tmp_path, cls, config):
    path = tmp_path / "huge.npz"
    np.savez(path, __model__=_record(cls, config), **{"param/w": np.zeros((1, 1))})
    with pytest.raises(nn.ModelFileError, match="do not fit"):
        nn.load(path)


# ---- hostile files, under a memory limit (issue 22) ----------------------------------------
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_UNDER_LIMIT = """
import resource, sys
import nn
with open("/proc/self/status") as f:
    vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + {headroom}, vm + {headroom}))
try:
    nn.load(sys.argv[1])
except nn.ModelFileError as e:
    print("refused:", e)
    sys.exit(3)
except MemoryError:
    print("MemoryError")
    sys.exit(4)
print("loaded")
"""


def _load_limited(path, headroom=64 << 20, timeout=60):
    """nn.load(path) in a child whose address space may grow by `headroom` bytes only."""
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", _UNDER_LIMIT.format(headroom=headroom),
                           str(path)], check=False, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def _zeros_member(zf, name, shape, compress):
    """A .npy member of float64 zeros of `shape`, streamed (never whole in memory)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_2_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": shape})
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zf.open(info, "w", force_zip64=True) as f:
        f.write(header.getvalue())
        left, chunk = int(np.prod(shape)) * 8, bytes(1 << 20)
        while left > 0:
            f.write(chunk[:min(left, len(chunk))])
            left -= len(chunk)


@pytest.mark.parametrize("case", ["extra member", "huge weight", "huge consistent model"])
def test_a_small_file_cannot_make_load_inflate_anything(tmp_path, case):
    """Members that would expand 1000× (deflated zeros) are refused from the archive's
    directory, before a byte of them is inflated; the child's memory may grow 64 MB."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as zf:
        if case == "huge consistent model":  # the record itself claims 200 MB of weights
            zf.writestr("__model__.npy", _npy(_record("Linear", {"nin": 5000, "nout": 5000})))
            _zeros_member(zf, "param/w.npy", (5000, 5000), compress=True)
            _zeros_member(zf, "param/b.npy", (5000,), compress=False)
        else:
            zf.writestr("__model__.npy", _npy(_record("Linear", {"nin": 2, "nout": 3})))
            big = (5000, 5000)
            _zeros_member(zf, "param/w.npy", big if case == "huge weight" else (3, 2),
                          compress=case == "huge weight")
            _zeros_member(zf, "param/b.npy", (3,), compress=False)
            if case == "extra member":
                _zeros_member(zf, "param/evil.npy", big, compress=True)
    assert path.stat().st_size < 1_000_000
    proc = _load_limited(path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "compressed" in proc.stdout and "bomb.npz" in proc.stdout


def test_an_extra_or_missing_weight_is_refused_before_any_weight_is_read(tmp_path,
                                                                         monkeypatch):
    path = tmp_path / "m.npz"
    nn.Linear(2, 3, seed=0).save(path)
    with np.load(path) as f:
        arrays = dict(f)
    arrays["param/evil"] = np.zeros((1000, 1000))
    np.savez(path, **arrays)
    from nn import model_file
    read = []
    real = model_file._data
    monkeypatch.setattr(model_file, "_data", lambda zf, info, *a: read.append(info.filename)
                        or real(zf, info, *a))
    with pytest.raises(nn.ModelFileError, match=r"unexpected keys \['evil'\]"):
        nn.load(path)
    assert read == ["__model__.npy"]  # the record only: no weight was read


@pytest.mark.parametrize("kind", ["/dev/zero link", "fifo", "directory", "/dev/urandom link"])
def test_a_path_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = tmp_path / "m.npz"
    if kind.endswith("link"):
        os.symlink(kind.split()[0], path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    proc = _load_limited(path, timeout=30)  # a read of /dev/zero would hit the limit
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "not a regular file" in proc.stdout or "is a directory" in proc.stdout


def test_load_tidies_the_temporary_file_a_killed_save_left(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "m.npz"
    nn.Linear(2, 3, seed=0).save(path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stray = tmp_path / f".m.npz.{dead.pid}.abc123.npz"
    stray.write_bytes(b"half a file")
    mine = tmp_path / f".m.npz.{os.getpid()}.def456.npz"  # a live writer's: kept
    mine.write_bytes(b"being written")
    other = tmp_path / f".other.npz.{dead.pid}.x.npz"  # another file's: not ours to touch
    other.write_bytes(b"x")
    nn.load(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["m.npz", mine.name, other.name])


class _Marker:
    """Unpickling this would create a file: it must never happen."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_pickled_payloads_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Marker(str(marker))
    for name in ("param/w", "__model__", "param/b"):
        path = tmp_path / f"{name.replace('/', '_')}.npz"
        arrays = {"__model__": _record("Neuron", {"nin": 2}), "param/w": np.zeros(2),
                  "param/b": np.zeros(())}
        arrays[name] = payload
        np.savez(path, **arrays)
        with pytest.raises(nn.ModelFileError, match="dtype object"):
            nn.load(path)
        assert not marker.exists()


def test_nn_never_imports_a_module_that_imports_it_back():
    """Saving and loading: model_file knows nothing of modules, module.py imports it, io.py
    gathers both; no import (even one inside a function) goes the other way."""
    import re
    nn_dir = os.path.join(ROOT, "nn")
    imports = {}
    for name in ("io", "module", "model_file"):
        with open(os.path.join(nn_dir, f"{name}.py"), encoding="utf-8") as f:
            text = f.read()
        found = set(re.findall(r"^\s*from \.(\w+) import", text, flags=re.MULTILINE))
        for group in re.findall(r"^\s*from \. import ([\w, ]+)", text, flags=re.MULTILINE):
            found.update(n.strip() for n in group.split(","))
        found.update(re.findall(r"^\s*(?:from|import) nn\.(\w+)", text, flags=re.MULTILINE))
        imports[name] = found
    assert imports["model_file"] == set()
    assert imports["module"] == {"model_file"}
    assert imports["io"] <= {"module", "model_file"}


_SAVER = """
import sys
import numpy as np
import nn
a, b = nn.MLP(8, [64, 64, 4], seed=1), nn.MLP(8, [64, 64, 4], seed=2)
x = np.zeros((2, 8))
print("ready", flush=True)
i = 0
while True:  # until SIGINT: saves and exports, alternating the two models
    m = (a, b)[i % 2]
    m.save(sys.argv[1])
    if len(sys.argv) > 2:
        nn.export_onnx(m, sys.argv[2], x)
    i += 1
"""


@pytest.mark.parametrize("export", [False, True])
def test_saves_and_exports_interrupted_by_a_real_sigint_leave_whole_files(tmp_path, export):
    import signal
    import subprocess
    import sys
    import time
    if export:
        pytest.importorskip("onnx")
    path, onnx_path = tmp_path / "m.npz", tmp_path / "m.onnx"
    models = [nn.MLP(8, [64, 64, 4], seed=s).state_dict() for s in (1, 2)]
    env = dict(os.environ, PYTHONPATH=ROOT)
    for delay in (0.05, 0.13, 0.21, 0.37, 0.5):  # five interruptions, at varied moments
        args = [sys.executable, "-c", _SAVER, str(path)] + ([str(onnx_path)] if export else [])
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                cwd=ROOT)
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode != 0  # it was interrupted, not finished
        if path.exists():
            state = nn.load(path).state_dict()
            assert any(all(np.array_equal(state[k], m[k]) for k in m) for m in models)
        if export and onnx_path.exists():
            onnx = pytest.importorskip("onnx")
            onnx.checker.check_model(onnx.load(str(onnx_path)))
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert leftovers == [], leftovers  # KeyboardInterrupt removed the temporary file
