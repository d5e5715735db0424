"""The tiny GPT: its data pipeline and baselines, gradients checked end to end, 50 training
steps in agreement with a PyTorch twin, the demo's smoke run, --generate and bad input."""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import Value, gradcheck

ROOT = Path(__file__).resolve().parents[2]


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpt = _module(ROOT / "demos" / "tiny_gpt.py", "tiny_gpt")
twin = _module(ROOT / "benchmarks" / "gpt_twin.py", "gpt_twin")


def run(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "demos" / "tiny_gpt.py"),
                           *map(str, args)], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


# ---- data and baselines ----------------------------------------------------------------
def test_text_split_and_windows():
    text = gpt.load_text()
    assert len(text) > 400_000 and "def " in text  # Python's own help topics
    chars = "".join(sorted(set(text)))
    data = gpt.encode(text, chars)
    assert gpt.decode(data[:50], chars) == text[:50]
    train, val = gpt.split(data)
    assert len(train) == int(0.9 * len(data)) and len(train) + len(val) == len(data)
    np.testing.assert_array_equal(val[:10], data[len(train):len(train) + 10])  # by position
    x, y = gpt.random_batch(train, 5, 8, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 8)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # targets: the next character
    with pytest.raises(ValueError, match="does not know"):
        gpt.encode("ab€", "ab")


def test_baselines_by_hand():
    # train "abab", val "ab", add-one smoothing: unigram P(a) = P(b) = 3/6;
    # bigram a→b seen twice: P(b | a) = (2 + 1) / (2 + 2) = 3/4
    uni, bi = gpt.baselines(np.array([0, 1, 0, 1]), np.array([0, 1]), 2)
    assert uni == pytest.approx(np.log(2))
    assert bi == pytest.approx(-np.log(0.75))


# ---- the model -------------------------------------------------------------------------
def _tiny(dtype="float64", n_layer=2, n_embd=16, n_head=2, block=4, chars="abcde"):
    return gpt.TinyGPT(chars, block_size=block, n_embd=n_embd, n_head=n_head,
                       n_layer=n_layer, seed=0, dtype=dtype)


def _slots(model):
    """(module, attribute) of every parameter, so a test can swap in other Values."""
    out = []
    for name, _ in model.named_parameters():
        *path, attr = name.split(".")
        obj = model
        for part in path:
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        out.append((obj, attr))
    return out


def test_gradients_checked_end_to_end():
    """gradcheck of the loss (2 layers, E = 16) along two random directions of every
    parameter at once (d/dtᵢ loss(pᵢ + tᵢ vᵢ) = gradᵢ · vᵢ: a wrong gradient would have to be
    orthogonal to both random directions to pass), and element by element for the first
    block's LayerNorms and attention biases."""
    model = _tiny()  # 2 layers, E = 16
    rng = np.random.default_rng(0)
    for p in model.parameters():  # away from the initial zeros and ones
        p.data = p.data + rng.normal(0, 0.1, p.shape)
    x, y = rng.integers(0, 5, (1, 4)), rng.integers(0, 5, (1, 4))
    slots = _slots(model)
    start = [p.data.copy() for p in model.parameters()]

    def loss_at(params):
        for (obj, attr), p in zip(slots, params):
            setattr(obj, attr, p)
        return model.loss(x, y)

    for seed in (1, 2):
        dirs = [np.random.default_rng(seed + i).standard_normal(p.shape) for i, p in
                enumerate(start)]

        def along(*ts, dirs=dirs):
            return loss_at([p + t * v for p, t, v in zip(start, ts, dirs)])

        assert gradcheck(along, *[Value(0.0) for _ in start], atol=1e-8, rtol=1e-5)
    names = [n for n, _ in model.named_parameters()]
    picked = [i for i, n in enumerate(names) if n.startswith("blocks.0.")
              and (".ln_" in n or n.endswith((".b_in", ".b_out")))]
    assert len(picked) == 6

    def loss_of_some(*chosen):
        params = [Value(a) for a in start]
        for i, c in zip(picked, chosen):
            params[i] = c
        return loss_at(params)

    assert gradcheck(loss_of_some, *[start[i] for i in picked], atol=1e-8, rtol=1e-5)


def test_bad_input_to_the_model():
    model = _tiny(n_layer=1)
    with pytest.raises(ValueError, match=r"context of 5 characters is longer than the position "
                                         r"table \(block_size 4\)"):
        model(np.zeros((1, 5), dtype=int))
    with pytest.raises(ValueError, match=r"shape \(batch, time\)"):
        model(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"prompt 'ax' .* does not know: 'x'"):
        gpt.generate(model, "ax", 3)
    out = gpt.generate(model, "ab", 10, temperature=0.5, top_k=2)  # longer than block_size
    assert out.startswith("ab") and len(out) == 12 and set(out) <= set("abcde")


def _recipe(steps):
    return argparse.Namespace(lr=3e-3, min_lr=3e-4, warmup=10, steps=steps, weight_decay=0.1,
                              clip=1.0)


def test_fifty_steps_agree_with_the_torch_twin():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only contend for the cores
    try:
        _fifty_steps(torch)
    finally:
        torch.set_num_threads(threads)


def _fifty_steps(torch):
    text = gpt.load_text()
    chars = "".join(sorted(set(text)))
    train, _ = gpt.split(gpt.encode(text, chars))
    model = gpt.TinyGPT(chars, block_size=8, n_embd=16, n_head=2, n_layer=2, seed=0,
                        dtype="float64")
    theirs = twin.twin(model, torch)
    args = _recipe(50)
    opt, sched = gpt.make_optimizer(model, args)
    topt, tsched = twin.optimizer(theirs, torch, args)
    rng = np.random.default_rng(0)
    ours_losses, their_losses = [], []
    for _ in range(args.steps):
        x, y = gpt.random_batch(train, 4, 8, rng)
        ours_losses.append(gpt.train_step(model, opt, sched, x, y, args.clip))
        their_losses.append(twin.step(theirs, topt, tsched, torch, x, y, args.clip))
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-6)
    assert ours_losses[-1] < 0.9 * ours_losses[0]  # it learned something
    for (name, p), q in zip(model.named_parameters(), _torch_order(theirs)):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-8,
                                   err_msg=name)


def _torch_order(t):
    """The twin's parameters in the order of ours (tok, pos, blocks..., ln_f, head)."""
    out = [t.tok.weight, t.pos.weight]
    for b in t.blocks:
        out += [b.ln_1.weight, b.ln_1.bias, b.attn.in_proj_weight, b.attn.out_proj.weight,
                b.attn.in_proj_bias, b.attn.out_proj.bias, b.ln_2.weight, b.ln_2.bias,
                b.fc.weight, b.fc.bias, b.proj.weight, b.proj.bias]
    return out + [t.ln_f.weight, t.ln_f.bias, t.head.weight, t.head.bias]


def test_attention_weights_are_torch_s_per_head_weights():
    torch = pytest.importorskip("torch")
    model = _tiny(n_layer=2, n_embd=16, n_head=2, block=6)
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.data = p.data + rng.normal(0, 0.3, p.shape)
    ids = np.array([0, 3, 1, 4, 2, 2])
    theirs = twin.twin(model, torch)
    x = theirs.tok(torch.tensor(ids[None])) + theirs.pos(torch.arange(6))
    x = theirs.blocks[0](x)
    h = theirs.blocks[1].ln_1(x)
    mask = torch.triu(torch.ones(6, 6, dtype=torch.bool), 1)
    _, w = theirs.blocks[1].attn(h, h, h, attn_mask=mask, average_attn_weights=False)
    for head in range(2):
        ours = gpt.attention_weights(model, ids, layer=1, head=head)
        np.testing.assert_allclose(ours, w[0, head].detach().numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.sum(axis=1), 1.0)
        assert np.all(ours[np.triu_indices(6, 1)] == 0)  # no weight on the future


def test_explain_one_attention_score(tmp_path):
    text = gpt.explain_attention_score()
    assert "a₃₁ = " in text and "a₃ = softmax(scores)" in text and "q₃" in text
    if shutil.which("dot"):
        path = tmp_path / "score.svg"
        gpt.explain_attention_score(str(path))
        assert path.read_text().lstrip().startswith("<")


# ---- the demo, as a user runs it -------------------------------------------------------
SMALL = ["--steps", 6, "--n-embd", 16, "--n-head", 2, "--n-layer", 1, "--block-size", 16,
         "--batch-size", 4, "--eval-every", 3, "--log-every", 2, "--eval-windows", 4,
         "--samples", 20]


def test_smoke_run_save_generate_and_attention_map(tmp_path):
    path = tmp_path / "gpt.npz"
    extra = []
    have_mpl = importlib.util.find_spec("matplotlib") is not None
    if have_mpl:
        extra = ["--attention-map", tmp_path / "attention.png"]
    proc = run(*SMALL, "--save", path, *extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "unigram 3.237, bigram 2.324 nats/char" in out
    assert "tokens/s" in out and "val " in out
    assert "Validation loss (all 46,497 characters)" in out
    assert path.exists()
    if have_mpl:
        assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG"
    gen = run("--load", path, "--generate", 40, "--prompt", "def ", "--seed", 3, cwd=tmp_path)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    assert gen.stdout.startswith("def ") and len(gen.stdout.rstrip("\n")) >= 44
    again = run("--load", path, "--generate", 40, "--prompt", "def ", "--seed", 3, cwd=tmp_path)
    assert again.stdout == gen.stdout  # a seed gives the same sample


def test_bad_command_lines_get_clear_errors(tmp_path, capsys):
    path = tmp_path / "gpt.npz"
    _tiny(n_layer=1, block=16).save(str(path))

    def fails(*args):
        assert gpt.main([str(a) for a in args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
        return err

    assert "does not know: '€'" in fails("--load", path, "--generate", 5, "--prompt", "a€")
    assert "another configuration: --n-embd 32 (the file has 16)" in \
        fails("--load", path, "--generate", 5, "--n-embd", 32)
    other = tmp_path / "mlp.npz"
    nn.MLP(2, [3, 2], seed=0).save(str(other))
    assert "MLP" in fails("--load", other, "--generate", 5)
    assert "vocabulary" in fails("--load", path, "--steps", 0, "--samples", 0)
    with pytest.raises(SystemExit):  # argparse: exit status 2, usage on stderr
        gpt.main(["--generate", "5"])
    assert "--load" in capsys.readouterr().err


def test_state_shapes_are_the_built_models_shapes():
    for model in (_tiny(), _tiny(n_layer=0, n_embd=8, block=3, chars="xy")):
        assert gpt.TinyGPT.state_shapes(model.config()) == {
            k: v.shape for k, v in model.state_dict().items()}


_LIMITED_RUN = """
import resource, runpy, sys
import nn
with open("/proc/self/status") as f:
    vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (200 << 20), vm + (200 << 20)))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_load_checks_the_files_shapes_before_building_the_model(tmp_path):
    """A 10 KB file claiming 48 blocks of width 1024 (~600M weights): refused from its
    stored shapes, exit 2 with "error:", in a process allowed 200 MB more memory."""
    small = _tiny(n_layer=1, n_embd=8, block=4, chars="abc")
    arrays = {"param/" + k: v for k, v in small.state_dict().items()}
    config = {**small.config(), "n_layer": 48, "n_embd": 1024}
    import json
    arrays["__model__"] = np.array(json.dumps({"format": "nn-autograd-model", "version": 1,
                                               "class": "TinyGPT", "config": config}))
    path = tmp_path / "liar.npz"
    np.savez(path, **arrays)
    assert path.stat().st_size < 20_000
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _LIMITED_RUN, str(ROOT / "demos" / "tiny_gpt.py"),
                           "--load", str(path), "--generate", "5"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith("error: --load") and "Traceback" not in proc.stderr
    assert "expected shape (1024,)" in proc.stderr or "missing keys" in proc.stderr
