"""draw_graph / save_graph: what the picture shows, how it is written, and its refusals."""

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd.show.draw as draw_mod
from autograd import Value, draw_graph, save_graph
from demos.document import single_neuron

SVG = "{http://www.w3.org/2000/svg}"


def neuron():
    """The document's single neuron, after backward: z = 0.5×0.8 + 0.7×0.3 + 0.2×0.5 - 0.3."""
    a = single_neuron()
    a.backward()
    return a


def svg_texts(path):
    root = ET.parse(path).getroot()
    return [t.text for t in root.iter(SVG + "text") if t.text]


def labelled_boxes(texts):
    """{label: (data, grad)} read from the text runs of the Value boxes in an SVG."""
    return {texts[i]: (texts[i + 2], texts[i + 4]) for i in range(len(texts) - 4)
            if texts[i + 1] == "data" and texts[i + 3] == "grad"}


def node_ids(source, text):
    """The DOT ids of the nodes whose label contains `text`."""
    return [m.group(1) for m in re.finditer(r"^\s*(\w+) \[label=(.*)$", source, re.MULTILINE)
            if text in m.group(2)]


def test_svg_rendered_by_dot_shows_labels_data_and_gradients(tmp_path):
    a = neuron()
    out = save_graph(a, tmp_path / "neuron.svg")
    assert out == tmp_path / "neuron.svg"
    texts = svg_texts(out)
    for name in ("w1", "w2", "w3", "x1", "x2", "x3", "z", "a"):
        assert name in texts
    assert "0.41" in texts            # z and a
    assert "-0.3" in texts            # the bias constant
    # da/dw_i = x_i and da/dx_i = w_i, read back from each labelled box of the picture
    boxes = labelled_boxes(texts)
    assert boxes["w1"] == ("0.5", "0.8") and boxes["w2"] == ("0.7", "0.3")
    assert boxes["w3"] == ("0.2", "0.5") and boxes["x1"] == ("0.8", "0.5")
    assert boxes["x2"] == ("0.3", "0.7") and boxes["z"] == ("0.41", "1")
    assert boxes["a"] == ("0.41", "1")
    assert texts.count("grad") == 13  # one per Value: 6 leaves, 3 products, 3 sums, ReLU
    assert {"×", "+", "ReLU"} <= set(texts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.svg"]  # nothing stray


def test_show_grad_false_drops_the_grad_rows(tmp_path):
    a = neuron()
    texts = svg_texts(save_graph(a, str(tmp_path / "g.svg"), show_grad=False))
    assert "grad" not in texts and "data" in texts


def test_edges_follow_the_data_flow():
    p, q = Value(2.0, label="p"), Value(3.0, label="q")
    r = p * q
    r.label = "r"
    src = draw_graph(r).source
    (pid,), (qid,), (rid,) = (node_ids(src, f"<B>{n}</B>") for n in "pqr")
    op = f"{rid}_op"
    for edge in (f"{pid} -> {op}", f"{qid} -> {op}", f"{op} -> {rid}"):
        assert edge in src
    assert f"{rid} -> " not in src


def test_leaves_root_and_intermediates_look_different():
    a = neuron()
    src = draw_graph(a).source
    (wid,) = node_ids(src, "<B>w1</B>")
    (zid,) = node_ids(src, "<B>z</B>")
    (aid,) = node_ids(src, "<B>a</B>")
    colour = {i: re.search(rf"^\s*{i} \[.*?BGCOLOR=\"(#\w+)\"", src, re.MULTILINE).group(1)
              for i in (wid, zid, aid)}
    assert len(set(colour.values())) == 3


def test_tensors_show_values_up_to_16_elements_then_a_summary():
    small = Value(np.array([[0.6, 0.4], [0.5, 0.3]]), label="W")
    big = Value(np.arange(17.0), label="big")
    out = (small.sum() + big.sum()) * 1.0
    out.backward()
    src = draw_graph(out).source
    assert "(2, 2)" in src and "[[0.6, 0.4]," in src and "[0.5, 0.3]]" in src
    assert "(17,)" in src and "min 0  mean 8  max 16" in src
    assert "16," not in src  # the 17 values themselves are not listed


def test_parameter_names_and_special_characters_are_escaped(tmp_path):
    v = Value(1.5, label="layers.0.w")
    u = Value(2.0, label='odd <{|}> "name" & co')
    out = save_graph(v * u, tmp_path / "esc.svg")
    texts = svg_texts(out)
    assert "layers.0.w" in texts
    assert 'odd <{|}> "name" & co' in texts


def test_refuses_graphs_over_2000_values():
    v = Value(0.0)
    for _ in range(2000):
        v = v + 1.0
    with pytest.raises(ValueError, match=r"2001 Values.*sub-expression.*tensor"):
        draw_graph(v)


def test_refuses_by_drawn_size_not_node_count_alone(tmp_path):
    """A chain of 1,800 additions is few nodes but would be drawn ~300,000 points wide."""
    v = Value(0.0)
    for _ in range(1800):
        v = v + 1.0
    with pytest.raises(ValueError, match=r"drawn about [\d,]+ × [\d,]+ points.*15,000"):
        draw_graph(v)
    # the estimate of the longer side is close to what dot really draws, for a chain and
    # for a wide graph
    short = v.parents[0]
    for _ in range(1740):
        short = short.parents[0]
    wide = sum((Value(float(i)) * Value(2.0) for i in range(40)), Value(0.0))
    for g in (short, wide, neuron()):
        est_w, est_h = draw_mod.drawn_size(g)
        root = ET.parse(save_graph(g, tmp_path / "g.svg")).getroot()
        real_w, real_h = (float(root.get(k).rstrip("pt")) for k in ("width", "height"))
        assert 0.7 < max(est_w, est_h) / max(real_w, real_h) < 1.4, (est_w, est_h, real_w,
                                                                      real_h)


def test_dot_extension_writes_the_source_only(tmp_path):
    a = neuron()
    path = tmp_path / "n.dot"
    save_graph(a, path)
    assert path.read_text().startswith("digraph")
    assert [p.name for p in tmp_path.iterdir()] == ["n.dot"]


@pytest.mark.parametrize("name", ["g.jpg", "g", "g.svg.txt"])
def test_bad_extension_lists_the_valid_ones(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot"):
        save_graph(Value(1.0), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_without_dot_writes_the_dot_file_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    a = neuron()
    with pytest.raises(RuntimeError) as err:
        save_graph(a, tmp_path / "g.svg")
    msg = str(err.value)
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg
    assert str(tmp_path / "g.dot") in msg
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]
    assert "w1" in (tmp_path / "g.dot").read_text()


def test_dot_missing_from_path_is_caught_from_graphviz_too(tmp_path, monkeypatch):
    """shutil.which says yes, but graphviz cannot run dot: same outcome."""
    monkeypatch.setattr(draw_mod.shutil, "which", lambda name, *a, **k: "/nowhere/dot")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        save_graph(Value(1.0) * 2.0, tmp_path / "g.png")
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


def test_png_and_pdf_render(tmp_path):
    a = neuron()
    assert save_graph(a, tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert save_graph(a, tmp_path / "g.pdf").read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pdf", "g.png"]


def test_bad_arguments():
    with pytest.raises(TypeError, match="Value"):
        draw_graph(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(Value(1.0), rankdir="up")
    assert 'rankdir=TB' in draw_graph(Value(1.0), rankdir="TB").source


def test_long_index_arguments_are_shortened_in_op_captions():
    x = Value(np.arange(200.0).reshape(100, 2))
    picked = x[np.arange(100), np.zeros(100, dtype=int)].sum()
    source = draw_graph(picked).source
    assert "..." in source and "99" in source          # ends shown, middle elided
    assert source.count(" 5 ") == 0                     # not all 100 indices written out


def test_the_dog_cat_drawing_reads_like_the_document(tmp_path):
    """One sample through nn: P(dog) = 0.562 appears, the input is named, and the
    transposes of the weights are folded into the edges (ᵀ), not drawn as nodes."""
    import nn
    from demos.document import DOG_X, dog_cat_network

    model = dog_cat_network()
    L = nn.cross_entropy(model(DOG_X), 0)
    L.backward()
    src = draw_graph(L).source
    assert "transpose" not in src and src.count('label="ᵀ"') == 2
    texts = svg_texts(save_graph(L, tmp_path / "dogcat.svg"))
    assert "[0.562, 0.438]" in texts  # p, beside the log-softmax values, rounded as explain
    assert "input x" in texts and "[0.9, 0.2, 0.8, 0.3]" in texts
    assert "layers.1.w" in texts
    # a labelled or reused transpose stays a node of its own
    w = Value(np.eye(2), label="w")
    t = w.T
    t.label = "wT"
    assert "transpose" in draw_graph((t @ np.ones(2)).sum()).source


def test_float_dust_is_drawn_as_zero_and_numbers_round_as_explain(tmp_path):
    a = Value(0.1, label="a")
    b = Value(0.2, label="b")
    c = Value(0.3, label="c")
    d = (a + b) - c  # 5.55e-17, float dust
    d.label = "d"
    out = d * 1.0 + Value(0.5625, label="e")
    out.backward()
    texts = svg_texts(save_graph(out, tmp_path / "dust.svg"))
    assert d.data != 0 and "0" in texts and not any("e-17" in t for t in texts)
    big = Value([1e8, 1e-5], label="big")  # 1e-5 is dust beside 1e8 (below 1e-12 of it)
    (big * 2.0).sum().backward()
    assert "0.562" in texts and "0.5625" not in texts  # explain's rounding, one for all
    big_texts = svg_texts(save_graph(big * 1.0, tmp_path / "big.svg"))
    assert "[1e+08, 0]" in big_texts and not any("1e-05" in t for t in big_texts)


def test_array_arguments_are_not_written_on_the_op(tmp_path):
    from autograd.ops.losses import cross_entropy

    z = Value([[0.3, 0.1], [0.2, 0.5]], label="z")
    L = cross_entropy(z, index=np.array([0, 1]))
    L.backward()
    texts = svg_texts(save_graph(L, tmp_path / "ce.svg"))
    assert "cross_entropy" in texts and not any("index=" in t for t in texts)
