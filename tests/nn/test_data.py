"""nn.data: splits, batches, normalisation and image augmentations."""

import sys

import numpy as np
import pytest

import nn
from nn import data


def _toy(n=200, classes=(0, 1, 2), weights=(0.6, 0.3, 0.1), seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(np.asarray(classes), size=n, p=np.asarray(weights))
    X = np.arange(n * 3, dtype=float).reshape(n, 3)  # row i starts with 3i: identifies it
    return X, y


def _ids(X):
    return set((X[:, 0] // 3).astype(int).tolist())


# ---- split ------------------------------------------------------------------------------

def test_split_default_sizes_are_70_15_15():
    X, y = _toy(1000)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = data.split(X, y)
    assert (len(Xtr), len(Xva), len(Xte)) == (700, 150, 150)
    assert (len(ytr), len(yva), len(yte)) == (700, 150, 150)


@pytest.mark.parametrize("n", [1, 2, 7, 101, 1797])
def test_split_parts_are_disjoint_and_cover_everything(n):
    X, y = _toy(n)
    parts = data.split(X, y, seed=3)
    ids = [_ids(Xp) for Xp, _ in parts]
    assert sum(len(i) for i in ids) == n
    assert set.union(*ids) == set(range(n))
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    for Xp, yp in parts:  # rows stay paired with their labels
        np.testing.assert_array_equal(yp, y[(Xp[:, 0] // 3).astype(int)])


def test_split_is_deterministic_for_a_seed_and_differs_across_seeds():
    X, y = _toy(300)
    a = data.split(X, y, seed=7)
    b = data.split(X, y, seed=7)
    c = data.split(X, y, seed=8)
    for (Xa, ya), (Xb, yb) in zip(a, b):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])


def test_stratified_split_keeps_class_proportions():
    X, y = _toy(1000, weights=(0.6, 0.3, 0.1))
    parts = data.split(X, y, seed=1, stratify=True)
    for cls in (0, 1, 2):
        total = np.sum(y == cls)
        for (_, yp), frac in zip(parts, (0.7, 0.15, 0.15)):
            assert abs(np.sum(yp == cls) - frac * total) <= 1
    # disjoint and complete as well
    ids = [_ids(Xp) for Xp, _ in parts]
    assert set.union(*ids) == set(range(1000)) and sum(map(len, ids)) == 1000


def test_unstratified_split_can_lose_a_rare_class_but_stratified_does_not():
    y = np.array([0] * 95 + [1] * 5)
    X = np.arange(100.0).reshape(100, 1)
    for seed in range(5):
        parts = data.split(X, y, seed=seed, stratify=True)
        assert [int(np.sum(yp == 1)) for _, yp in parts] in ([4, 1, 0], [3, 1, 1], [4, 0, 1])


def test_split_other_fractions_and_bad_input():
    X, y = _toy(100)
    tr, te = data.split(X, y, fractions=(0.8, 0.2))
    assert (len(tr[0]), len(te[0])) == (80, 20)
    with pytest.raises(ValueError, match="add.*up to 1"):
        data.split(X, y, fractions=(0.7, 0.2, 0.2))
    with pytest.raises(ValueError, match="same number of rows"):
        data.split(X, y[:-1])


# ---- batches ----------------------------------------------------------------------------

def test_batches_cover_all_rows_once_and_keep_the_partial_batch():
    X, y = _toy(10)
    got = list(data.batches(X, y, batch_size=4, seed=0))
    assert [len(b[0]) for b in got] == [4, 4, 2]
    seen = np.concatenate([bx[:, 0] // 3 for bx, _ in got]).astype(int)
    assert sorted(seen.tolist()) == list(range(10))
    for bx, by in got:
        np.testing.assert_array_equal(by, y[(bx[:, 0] // 3).astype(int)])


def test_batches_shuffle_is_seeded_and_no_shuffle_keeps_order():
    X, y = _toy(50)
    a = [bx[:, 0].tolist() for bx, _ in data.batches(X, y, 8, seed=5)]
    b = [bx[:, 0].tolist() for bx, _ in data.batches(X, y, 8, seed=5)]
    c = [bx[:, 0].tolist() for bx, _ in data.batches(X, y, 8, seed=6)]
    assert a == b and a != c
    plain = np.concatenate([bx for bx, _ in data.batches(X, y, 8, shuffle=False)])
    np.testing.assert_array_equal(plain, X)


def test_batches_rejects_bad_batch_size():
    X, y = _toy(5)
    with pytest.raises(ValueError, match="batch_size"):
        list(data.batches(X, y, 0))


# ---- normalisation ----------------------------------------------------------------------

def test_scale_pixels_maps_0_255_to_0_1():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    np.testing.assert_allclose(data.scale_pixels(x), [[0.0, 0.2, 1.0]])


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 2.0, size=(500, 3))
    train[:, 2] = 4.0  # a constant feature: std taken as 1, no division by zero
    test = rng.normal(50.0, 2.0, size=(20, 3))
    s = data.Standardizer().fit(train)
    z = s.transform(train)
    np.testing.assert_allclose(z[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_array_equal(z[:, 2], 0.0)
    # the test part is shifted by the *training* mean, so it stays far from 0
    assert s.transform(test)[:, 0].mean() > 10
    np.testing.assert_allclose(s.inverse_transform(s.transform(test)), test)
    with pytest.raises(RuntimeError, match="fit"):
        data.Standardizer().transform(test)


def test_standardizer_as_a_models_first_module_is_saved_with_it(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(3.0, 5.0, size=(50, 3))
    scaler = data.Standardizer().fit(X[:40])
    layer = nn.Layer(3, 2, "tanh", seed=0)
    model = nn.Sequential(scaler, layer)
    np.testing.assert_array_equal(model(X[40:]).data, layer(scaler.transform(X[40:])).data)
    assert model.parameters() == layer.parameters()  # the statistics are not learned
    back = nn.load(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(back[0].mean, scaler.mean)
    np.testing.assert_array_equal(back[0].std, scaler.std)
    np.testing.assert_array_equal(back(X[40:]).data, model(X[40:]).data)
    x32 = X[40:].astype(np.float32)
    assert data.Standardizer().fit(X)(x32).dtype == np.float32
    with pytest.raises(ValueError, match=r"samples of shape \(3,\)"):
        model(np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="fit"):
        data.Standardizer()(X)


def test_standardizer_passes_the_gradient_to_its_input():
    from autograd import Value
    scaler = data.Standardizer().fit(np.array([[0.0, 1.0], [4.0, 2.0]]))
    x = Value(np.array([[1.0, 1.0]]))
    scaler(x).sum().backward()
    np.testing.assert_allclose(x.grad, 1.0 / scaler.std[None])


def test_scale_pixels_as_a_module_matches_the_function(tmp_path):
    X = np.random.default_rng(2).integers(0, 256, size=(5, 6)).astype(np.float64)
    np.testing.assert_array_equal(data.ScalePixels()(X).data, data.scale_pixels(X))
    model = nn.Sequential(data.ScalePixels(16.0), nn.Layer(6, 2, seed=0))
    back = nn.load(model.save(tmp_path / "m.npz"))
    assert back[0].max_value == 16.0
    np.testing.assert_array_equal(back(X).data, model(X).data)
    with pytest.raises(ValueError, match="positive"):
        data.ScalePixels(0)


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot([1, 0, 2]), [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError):
        data.one_hot([0, 3], num_classes=2)


# ---- augmentations ----------------------------------------------------------------------

def _imgs(n=6, h=5, w=7, seed=0):
    return np.random.default_rng(seed).random((n, h, w))


AUGS = [data.flip, data.shift, data.rotate, data.noise, data.brightness]


@pytest.mark.parametrize("aug", AUGS)
def test_augmentation_is_pure_and_deterministic(aug):
    x = _imgs()
    before = x.copy()
    a = aug(x, np.random.default_rng(1))
    b = aug(x, np.random.default_rng(1))
    np.testing.assert_array_equal(x, before)  # input untouched
    assert a.shape == x.shape and a.dtype == x.dtype
    np.testing.assert_array_equal(a, b)
    assert a is not x


@pytest.mark.parametrize("aug", AUGS)
def test_augmentation_checks_its_arguments(aug):
    with pytest.raises(TypeError, match="Generator"):
        aug(_imgs(), 0)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        aug(np.zeros((4, 16)), np.random.default_rng(0))


def test_flip_mirrors_columns():
    x = _imgs()
    out = data.flip(x, np.random.default_rng(0), p=1.0)
    np.testing.assert_array_equal(out, x[:, :, ::-1])
    np.testing.assert_array_equal(data.flip(x, np.random.default_rng(0), p=0.0), x)
    mixed = data.flip(_imgs(200), np.random.default_rng(0), p=0.5)
    flipped = [np.array_equal(m, o[:, ::-1]) for m, o in zip(mixed, _imgs(200))]
    assert 60 < sum(flipped) < 140  # about half


def test_shift_moves_content_without_wrapping():
    x = np.zeros((300, 5, 5))
    x[:, 2, 2] = 1.0  # one bright pixel in the middle
    out = data.shift(x, np.random.default_rng(0), max_shift=1)
    np.testing.assert_array_equal(out.sum(axis=(1, 2)), 1.0)  # nothing lost, nothing added
    rows, cols = np.nonzero(out.reshape(300, 25))[1] // 5, np.nonzero(out.reshape(300, 25))[1] % 5
    assert set(rows.tolist()) == {1, 2, 3} and set(cols.tolist()) == {1, 2, 3}
    np.testing.assert_array_equal(data.shift(x, np.random.default_rng(0), max_shift=0), x)


def test_shift_is_one_of_the_zero_filled_translations():
    x = _imgs(200, 4, 5)
    out = data.shift(x, np.random.default_rng(0), max_shift=1)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))  # zeros around: what moves in is 0
    used = set()
    for k in range(len(x)):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                # shifting content by (dy, dx) = reading the padded image at (1 - dy, 1 - dx)
                cand = padded[k, 1 - dy:1 - dy + 4, 1 - dx:1 - dx + 5]
                if np.array_equal(out[k], cand):
                    used.add((dy, dx))
                    break
            else:
                continue
            break
        else:
            raise AssertionError(f"image {k} is not a one-pixel zero-filled translation")
    assert len(used) == 9  # every offset in [-1, 1]^2 drawn


def test_rotate_zero_is_identity_and_quarter_turn_is_rot90():
    x = _imgs(3, 5, 5)
    np.testing.assert_allclose(data.rotate(x, np.random.default_rng(0), max_degrees=0.0), x)

    class Fixed(np.random.Generator):  # a Generator whose uniform() always gives +max
        def uniform(self, low=0.0, high=1.0, size=None):
            return np.full(size, high)

    g = Fixed(np.random.PCG64(0))
    q = data.rotate(x, g, max_degrees=90.0)
    candidates = [np.rot90(x, k, axes=(1, 2)) for k in (1, -1)]
    assert any(np.allclose(q, c, atol=1e-12) for c in candidates)


def test_small_rotation_keeps_a_centred_blob_mostly_in_place():
    x = np.zeros((20, 9, 9))
    x[:, 3:6, 3:6] = 1.0
    out = data.rotate(x, np.random.default_rng(0), max_degrees=10.0)
    assert np.all(out >= -1e-12) and np.all(out <= 1 + 1e-12)  # bilinear: convex mix
    np.testing.assert_allclose(out[:, 4, 4], 1.0)  # the centre does not move
    assert np.all(np.abs(out.sum(axis=(1, 2)) - 9.0) < 1.0)


def test_noise_statistics_and_clipping():
    x = np.full((200, 8, 8), 0.5)
    out = data.noise(x, np.random.default_rng(0), std=0.1)
    d = out - x
    assert abs(d.mean()) < 0.01 and abs(d.std() - 0.1) < 0.01
    clipped = data.noise(np.zeros((10, 4, 4)), np.random.default_rng(0), std=0.5)
    assert clipped.min() == 0.0 and clipped.max() <= 1.0
    raw = data.noise(np.zeros((10, 4, 4)), np.random.default_rng(0), std=0.5, clip=None)
    assert raw.min() < 0.0


def test_brightness_adds_one_offset_per_image():
    x = np.full((100, 4, 4), 0.5) + np.linspace(0, 0.1, 16).reshape(4, 4)
    out = data.brightness(x, np.random.default_rng(0), max_delta=0.2)
    d = (out - x).reshape(100, -1)
    np.testing.assert_allclose(d, d[:, :1].repeat(16, axis=1), atol=1e-12)
    assert np.all(np.abs(d[:, 0]) <= 0.2) and d[:, 0].std() > 0.05
    bright = data.brightness(np.full((5, 2, 2), 0.95), np.random.default_rng(0), 0.5)
    assert bright.max() <= 1.0


def test_compose_chains_augmentations():
    x = _imgs()
    both = data.compose(lambda a, r: data.flip(a, r, p=1.0),
                        lambda a, r: data.flip(a, r, p=1.0))
    np.testing.assert_array_equal(both(x, np.random.default_rng(0)), x)


# ---- load_digits -------------------------------------------------------------------------

def test_load_digits_scales_sklearn_digits_to_unit_range():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = data.load_digits()
    raw = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    np.testing.assert_array_equal(X * 16.0, raw.data)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(y, raw.target)


def test_load_digits_without_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install -e '\.\[demos\]'"):
        data.load_digits()
