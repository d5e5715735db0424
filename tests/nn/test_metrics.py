"""nn.metrics against hand-counted examples, and against scikit-learn when it is installed."""

import numpy as np
import pytest

from nn import metrics

# A binary example counted by hand ("dog" = 1):
#   true: 1 1 1 1 0 0 0 0 0 0
#   pred: 1 1 1 0 1 1 0 0 0 0
# TP = 3, FN = 1, FP = 2, TN = 4
T2 = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
P2 = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]


def test_binary_hand_example():
    assert metrics.accuracy(T2, P2) == pytest.approx(7 / 10)
    assert metrics.precision(T2, P2) == pytest.approx(3 / 5)  # of 5 called "dog", 3 are
    assert metrics.recall(T2, P2) == pytest.approx(3 / 4)  # of 4 dogs, 3 found
    assert metrics.f1(T2, P2) == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))
    np.testing.assert_array_equal(metrics.confusion_matrix(T2, P2), [[4, 2], [1, 3]])
    # the other class as the positive one
    assert metrics.precision(T2, P2, pos_label=0) == pytest.approx(4 / 5)
    assert metrics.recall(T2, P2, pos_label=0) == pytest.approx(4 / 6)


# Three classes, counted by hand:
#   true: 0 0 0 1 1 2 2 2 2
#   pred: 0 1 0 1 2 2 2 0 2
T3 = [0, 0, 0, 1, 1, 2, 2, 2, 2]
P3 = [0, 1, 0, 1, 2, 2, 2, 0, 2]
CM3 = [[2, 1, 0],
       [0, 1, 1],
       [1, 0, 3]]


def test_multiclass_hand_example():
    np.testing.assert_array_equal(metrics.confusion_matrix(T3, P3), CM3)
    prec = [2 / 3, 1 / 2, 3 / 4]  # column-wise: TP / predicted
    rec = [2 / 3, 1 / 2, 3 / 4]
    p, r, f = metrics.precision_recall_f1(T3, P3, average=None)
    np.testing.assert_allclose(p, prec)
    np.testing.assert_allclose(r, rec)
    np.testing.assert_allclose(f, [2 * a * b / (a + b) for a, b in zip(prec, rec)])
    assert metrics.precision(T3, P3, average="macro") == pytest.approx(np.mean(prec))
    assert metrics.recall(T3, P3, average="macro") == pytest.approx(np.mean(rec))
    assert metrics.precision(T3, P3, average="micro") == pytest.approx(6 / 9)
    assert metrics.accuracy(T3, P3) == pytest.approx(6 / 9)
    w = np.array([3, 2, 4]) / 9
    assert metrics.recall(T3, P3, average="weighted") == pytest.approx(np.dot(w, rec))


def test_unequal_precision_and_recall_per_class():
    t = [0, 0, 0, 0, 1, 2]
    p = [0, 0, 1, 1, 1, 1]
    prec, rec, f = metrics.precision_recall_f1(t, p, average=None)
    np.testing.assert_allclose(prec, [1.0, 1 / 4, 0.0])  # class 2 never predicted: 0
    np.testing.assert_allclose(rec, [2 / 4, 1.0, 0.0])
    np.testing.assert_allclose(f, [2 / 3, 0.4, 0.0])


def test_labels_argument_orders_and_adds_classes():
    cm = metrics.confusion_matrix([1, 2], [1, 1], labels=[2, 1, 0])
    np.testing.assert_array_equal(cm, [[0, 1, 0], [0, 1, 0], [0, 0, 0]])
    p = metrics.precision([0, 1], [0, 1], average=None, labels=[0, 1, 5], zero_division=0.0)
    np.testing.assert_allclose(p, [1.0, 1.0, 0.0])


def test_string_labels_work():
    t = ["cat", "dog", "dog", "cat"]
    p = ["cat", "dog", "cat", "cat"]
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), [[2, 0], [1, 1]])
    assert metrics.recall(t, p, pos_label="dog") == pytest.approx(0.5)


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="same length"):
        metrics.accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="argmax"):
        metrics.accuracy([0, 1], np.eye(2))
    with pytest.raises(ValueError, match="macro"):
        metrics.precision(T3, P3, average="binary")  # three classes here
    with pytest.raises(ValueError, match="average"):
        metrics.f1(T2, P2, average="mean")
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])


def test_default_average_is_binary_for_two_classes_and_macro_for_more():
    for fn in (metrics.precision, metrics.recall, metrics.f1):
        assert fn(T3, P3) == pytest.approx(fn(T3, P3, average="macro"))
        assert fn(T2, P2) == pytest.approx(fn(T2, P2, average="binary"))
        assert fn(T3, P3) != pytest.approx(fn(T3, P3, average="micro"))


def test_classification_report_lists_every_class():
    text = metrics.classification_report(T3, P3, names=["zero", "one", "two"])
    assert "zero" in text and "two" in text and "0.667" in text and "accuracy" in text


def test_against_scikit_learn_on_random_labels():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for trial in range(20):
        k = int(rng.integers(2, 6))
        t = rng.integers(0, k, size=int(rng.integers(5, 60)))
        p = np.where(rng.random(len(t)) < 0.6, t, rng.integers(0, k, size=len(t)))
        assert metrics.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
        np.testing.assert_array_equal(metrics.confusion_matrix(t, p), skm.confusion_matrix(t, p))
        for avg in (None, "macro", "micro", "weighted"):
            ours = metrics.precision_recall_f1(t, p, average=avg)
            theirs = skm.precision_recall_fscore_support(t, p, average=avg, zero_division=0)[:3]
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a, b, err_msg=f"trial {trial}, average={avg}")
        tb, pb = (t % 2), (p % 2)
        assert metrics.precision(tb, pb) == pytest.approx(
            skm.precision_score(tb, pb, zero_division=0))
        assert metrics.recall(tb, pb) == pytest.approx(skm.recall_score(tb, pb, zero_division=0))
        assert metrics.f1(tb, pb) == pytest.approx(skm.f1_score(tb, pb, zero_division=0))
