"""The Q/K/V figure builders on synthetic arrays: the data they draw, labels and markings."""

import numpy as np
import pytest

from viz.figures import qkv as figures

LABELS = ["0: [CLS]", "1: a", "2: big", "3: party"]


def test_vector_strips_one_row_per_vector():
    vectors = np.arange(12, dtype=float).reshape(4, 3) - 6
    figure = figures.vector_strips(vectors=vectors, labels=LABELS, title="keys")
    heatmap = figure.data[0]
    assert np.asarray(heatmap.z).shape == (4, 3)
    assert heatmap.zmin == -6 and heatmap.zmax == 6 and heatmap.zmid == 0  # symmetric, so 0 is white
    assert list(figure.layout.yaxis.ticktext) == LABELS
    assert figure.layout.title.text == "keys"
    fixed = figures.vector_strips(vectors=vectors[:1], labels=LABELS[:1], title="q", zmax=10.0)
    assert fixed.data[0].zmax == 10.0


def test_score_bars_mark_masked_keys_and_the_query():
    values = np.array([0.3, 1.2, -np.inf, -np.inf])
    figure = figures.score_bars(values=values, labels=LABELS, title="+ causal mask", highlight=1)
    bars = figure.data[0]
    assert list(bars.x) == [0.3, 1.2, 0.0, 0.0]
    assert list(bars.text) == ["0.300", "1.200", "−∞", "−∞"]
    colours = list(bars.marker.color)
    assert colours[2] == colours[3] == figures.MASKED_COLOUR and colours[1] == figures.HIGHLIGHT_COLOUR
    assert len(figure.data) == 1
    low, high = figure.layout.xaxis.range
    assert low == 0.0 and high > 1.2 * 1.2  # room for the number printed after the longest bar
    negative = figures.score_bars(values=np.array([-2.0, 1.0, 0.5, 0.0]), labels=LABELS, title="q·k")
    assert negative.layout.xaxis.range[0] < -2.0


def test_score_bars_draw_the_reference_row():
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    figure = figures.score_bars(values=weights, labels=LABELS, title="softmax", reference=weights + 1e-7)
    assert figure.data[1].name == "model's own"
    np.testing.assert_allclose(figure.data[1].x, weights + 1e-7)


def test_weighted_sum_figure_has_rows_and_output():
    weighted = np.array([[0.1, -0.2], [0.5, 0.0], [0.0, 0.3], [0.0, 0.0]])
    output = weighted.sum(axis=0)
    figure = figures.weighted_sum_figure(weighted_values=weighted, output=output, labels=LABELS)
    assert np.asarray(figure.data[0].z).shape == (4, 2)
    np.testing.assert_allclose(np.asarray(figure.data[1].z)[0], output)
    assert figure.data[0].zmax == pytest.approx(0.6)  # the output's 0.6 sets the shared colour range


def test_head_grid_outlines_the_chosen_head():
    rows = np.full((3, 4), 0.25)
    figure = figures.head_grid(rows=rows, tokens=["[CLS]", "a", "big", "party"], selected=2, query_label="3: party",
                               head_labels=["head 0", "head 1", "head 2"])
    assert np.asarray(figure.data[0].z).shape == (3, 4)
    assert list(figure.layout.yaxis.ticktext) == ["head 0", "head 1", "head 2"]
    assert list(figure.layout.xaxis.ticktext) == ["[CLS]", "a", "big", "party"]
    shape = figure.layout.shapes[0]
    assert (shape.y0, shape.y1) == (1.5, 2.5)
    assert "3: party" in figure.layout.title.text


def test_position_heatmap_and_rotary_figure():
    table = np.random.default_rng(0).uniform(-1, 1, size=(40, 50))
    table[0, 3] = 30.0  # one outlier must not wash out the other 1999 cells
    figure = figures.position_heatmap(table=table, title="learned")
    assert np.asarray(figure.data[0].z).shape == (40, 50)
    assert 0.9 < figure.data[0].zmax < 1.0 and figure.data[0].zmin == -figure.data[0].zmax
    assert figures.position_heatmap(table=table, title="fixed", zmax=1.0).data[0].zmax == 1.0
    distances = np.arange(10)
    rotary = figures.rotary_distance_figure(distances=distances, scores=distances * 2.0, agreement=np.ones(10),
                                            marked_distance=3, marked_score=6.0, pair_label="party → big")
    names = [trace.name for trace in rotary.data]
    assert names == ["q·k", "their real distance", "all ones"]
    assert list(rotary.data[1].x) == [3] and list(rotary.data[1].y) == [6.0]
    assert "party → big" in rotary.layout.annotations[0].text
