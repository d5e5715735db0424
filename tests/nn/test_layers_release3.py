"""GroupNorm and Dropout2d against torch's modules (weights copied in), and their files."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Value

torch = pytest.importorskip("torch", reason="the layers are checked against torch")


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-9), ("float32", 2e-5)])
@pytest.mark.parametrize("groups, affine, shape", [(2, True, (3, 4, 5, 2)), (4, True, (2, 4, 6)),
                                                   (1, False, (2, 4, 3, 3))])
def test_group_norm_matches_torch(groups, affine, shape, dtype, rtol) -> None:
    rng = np.random.default_rng(groups)
    x0 = rng.normal(size=shape).astype(dtype) * 3 + 1
    ours = nn.GroupNorm(groups, shape[1], eps=1e-4, affine=affine, dtype=dtype)
    theirs = torch.nn.GroupNorm(groups, shape[1], eps=1e-4, affine=affine,
                                dtype=getattr(torch, dtype))
    if affine:
        w, b = rng.normal(size=shape[1]).astype(dtype), rng.normal(size=shape[1]).astype(dtype)
        ours.w.data[...], ours.b.data[...] = w, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    x, tx = Value(x0), torch.tensor(x0, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=rtol)
    g = rng.normal(size=shape).astype(dtype)
    (out * g).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=rtol * 10, atol=rtol * 10)
    if affine:
        np.testing.assert_allclose(ours.w.grad, theirs.weight.grad.numpy(), rtol=rtol * 10)
        np.testing.assert_allclose(ours.b.grad, theirs.bias.grad.numpy(), rtol=rtol * 10)
    assert out.dtype == np.dtype(dtype)


def test_group_norm_saves_loads_and_checks_its_arguments(tmp_path) -> None:
    m = nn.GroupNorm(2, 4, eps=1e-3)
    m.w.data[...] = [1.0, 2.0, 3.0, 4.0]
    path = m.save(str(tmp_path / "g.npz"))
    back = nn.load(path)
    np.testing.assert_array_equal(back.w.data, m.w.data)
    assert nn.GroupNorm.state_shapes(m.config()) == {"w": (4,), "b": (4,)}
    with pytest.raises(ValueError, match="num_channels 5 must be divisible by num_groups 2"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"expects input \(N, 4, ...\)"):
        m(np.zeros((2, 3, 5)))


def test_dropout2d_zeros_whole_channels_and_is_the_identity_in_eval() -> None:
    x = Value(np.ones((8, 16, 3, 3)))
    d = nn.Dropout2d(0.25, seed=0)
    out = d(x).data
    per_channel = out.reshape(8, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # whole channels
    assert set(np.unique(out)) <= {0.0, 1 / 0.75}
    assert 0.1 < np.mean(out == 0) < 0.4
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match=r"Dropout2d expects \(N, C, H, W\)"):
        nn.Dropout2d(0.5)(np.ones((2, 3)))


def test_module_list_and_dict_name_parameters_as_torch_and_convert(tmp_path) -> None:
    md = nn.ModuleDict({"enc": nn.Linear(3, 4, seed=0),
                        "blocks": nn.ModuleList([nn.Linear(4, 4, seed=i) for i in range(2)])})
    t = nn.to_torch(md)
    assert isinstance(t, torch.nn.ModuleDict)
    ours = {k: v for k, v in md.state_dict().items()}
    theirs = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    assert [k.rsplit(".", 1)[0] for k in ours] == [k.rsplit(".", 1)[0] for k in theirs]
    for (k, v), tv in zip(ours.items(), theirs.values()):
        np.testing.assert_array_equal(v, tv)
    back = nn.from_torch(t)
    x = np.random.default_rng(0).normal(size=(2, 3))
    out = back["blocks"][1](back["blocks"][0](back["enc"](x)))
    tout = t["blocks"][1](t["blocks"][0](t["enc"](torch.tensor(x))))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    loaded = nn.load(md.save(str(tmp_path / "d.npz")))
    assert list(loaded.state_dict()) == list(md.state_dict())
    assert nn.ModuleDict.state_shapes(md.config()) == {k: v.shape for k, v in ours.items()}
    ml = nn.ModuleList()
    ml.append(nn.Tanh()).extend([nn.Linear(2, 2)])
    ml.insert(0, nn.Identity())
    assert len(ml) == 3 and [n for n, _ in ml.named_parameters()] == ["2.w", "2.b"]
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        ml(x)
    with pytest.raises(ValueError, match="ModuleDict key '1x' must be a name"):
        nn.ModuleDict({"1x": nn.Tanh()})


@pytest.mark.parametrize("build, make", [
    (lambda: nn.ConvTranspose2d(3, 2, (3, 2), stride=2, padding=1, output_padding=1, seed=0),
     lambda r: r.normal(size=(2, 3, 4, 5))),
    (lambda: nn.ConvTranspose1d(3, 4, 3, stride=3, seed=1), lambda r: r.normal(size=(2, 3, 6))),
    (lambda: nn.AdaptiveAvgPool2d((3, None)), lambda r: r.normal(size=(2, 3, 7, 5))),
    (lambda: nn.AdaptiveAvgPool1d(4), lambda r: r.normal(size=(2, 3, 9))),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
     lambda r: r.normal(size=(2, 3, 4, 5))),
    (lambda: nn.Upsample(size=7), lambda r: r.normal(size=(2, 3, 4))),
])
def test_resampling_layers_match_their_torch_modules(build, make, tmp_path) -> None:
    rng = np.random.default_rng(0)
    m = build()
    t = nn.to_torch(m)  # the torch module, weights copied in
    x0 = make(rng)
    x, tx = Value(x0), torch.tensor(x0, requires_grad=True)
    out, tout = m(x), t(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = rng.normal(size=out.shape)
    (out * g).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, (_, tp) in zip(m.parameters(), t.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=1e-12)
    back = nn.from_torch(t)
    np.testing.assert_allclose(back(x0).data, out.data, rtol=1e-12)
    loaded = nn.load(m.save(str(tmp_path / "m.npz")))
    np.testing.assert_allclose(loaded(x0).data, out.data, rtol=1e-12)
    assert type(m).state_shapes(m.config()) == {k: v.shape for k, v in m.state_dict().items()}
