"""Figure builders of the Attention page on synthetic attentions: data, labels, masks, and bytes at 512 tokens."""

import numpy as np
import plotly.io as pio
import pytest
from test_attention_stats import random_attention

from viz import attention_stats as stats
from viz.figures import attention as figures
from viz.figures.common import visible

TOKENS = ["[CLS]", "the", "cat", "saw", "the", "dog", "[SEP]"]


def test_heatmap_keeps_duplicate_tokens_apart_and_labels_axes():
    weights = random_attention((7, 7))
    figure = figures.attention_heatmap(weights=weights, tokens=TOKENS, title="Layer 1, head 2")
    heatmap = figure.data[0]
    assert heatmap.z.shape == (7, 7) and list(heatmap.x) == list(range(7))
    np.testing.assert_allclose(heatmap.z, weights)
    assert list(figure.layout.xaxis.ticktext) == TOKENS and figure.layout.yaxis.autorange == "reversed"
    assert heatmap.text[2][5] == "query 2: cat → key 5: dog"
    assert "%{z:.4f}" in heatmap.hovertemplate
    assert not np.isnan(heatmap.z).any() and len(figure.data) == 1


def test_heatmap_masks_the_future_for_decoders():
    weights = random_attention((6, 6), causal=True)
    figure = figures.attention_heatmap(weights=weights, tokens=[" a"] * 6, title="t", causal=True)
    z = figure.data[0].z
    upper = np.triu(np.ones((6, 6), dtype=bool), k=1)
    assert np.isnan(z[upper]).all() and not np.isnan(z[~upper]).any()
    assert figure.data[1].name == "masked: a later token" and figure.layout.showlegend
    assert figure.layout.xaxis.ticktext[0] == visible(" a") == "␣a"


def test_heatmap_of_long_input_has_no_per_cell_text():
    n = figures.HOVER_TEXT_LIMIT + 1
    figure = figures.attention_heatmap(weights=random_attention((n, n)), tokens=["x"] * n, title="t")
    assert figure.data[0].text is None
    assert figure.data[0].hovertemplate.startswith("query %{y} → key %{x}")


def test_mosaic_tiles_and_gaps():
    thumbnails = random_attention((3, 4, 5, 5))
    image = figures.mosaic(thumbnails)
    assert image.shape == (3 * 6, 4 * 6)
    assert np.isnan(image[5, :]).all() and np.isnan(image[:, 5]).all()  # one-cell gaps between pictures
    tile = image[6:11, 12:17]  # layer 1, head 2
    np.testing.assert_allclose(tile, thumbnails[1, 2] / thumbnails[1, 2].max(), rtol=1e-6)


def test_head_overview_points_name_their_layer_and_head():
    figure = figures.head_overview(thumbnails=random_attention((6, 12, 4, 4)), layer=5, head=3, n_tokens=4)
    points = figure.data[1]
    assert len(points.x) == 72
    pairs = {tuple(int(v) for v in c) for c in points.customdata}
    assert pairs == {(layer, head) for layer in range(6) for head in range(12)}
    index = next(i for i, c in enumerate(points.customdata) if tuple(c) == (4, 7))
    assert (points.x[index], points.y[index]) == (7, 4)  # marker centred on the picture it names
    frame = figure.layout.shapes[0]
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (2.5, 3.5, 4.5, 5.5)
    assert "6 layers (rows) × 12 heads (columns)" in figure.layout.title.text
    assert figure.layout.width - 80 == 12 * (figure.layout.height - 120) // 6  # square pictures


def test_referent_bars_and_layers():
    rows = random_attention((4, 7), causal=False)
    bars = figures.referent_bars(weights=rows[2], tokens=TOKENS, query=2, title="Layer 2")
    assert bars.data[0].marker.color[2] == figures.QUERY_COLOUR and bars.data[0].marker.color[1] == figures.BAR_COLOUR
    np.testing.assert_allclose(bars.data[0].y, rows[2])
    layers = figures.referent_layers(weights=rows, tokens=TOKENS, query=3, layer=1, causal=True)
    z = layers.data[0].z
    assert z.shape == (4, 7) and np.isnan(z[:, 4:]).all() and not np.isnan(z[:, :4]).any()
    assert layers.layout.shapes[0].y0 == 0.5 and "'saw'" in layers.layout.title.text


def test_comparison_and_difference():
    labels = ["[CLS]", "it", "tired → narrow", "[SEP]"]
    a, b = np.array([0.1, 0.2, 0.6, 0.1]), np.array([0.3, 0.2, 0.4, 0.1])
    bars = figures.comparison_bars(weights_a=a, weights_b=b, labels=labels, name_a="A", name_b="B", title="t")
    assert [trace.name for trace in bars.data] == ["A", "B"] and bars.layout.barmode == "group"
    assert list(bars.layout.xaxis.ticktext) == labels
    difference = np.stack([b - a, a - b * 2])
    heatmap = figures.difference_by_layer(difference=difference, labels=labels, layer=0, title="t").data[0]
    assert heatmap.zmid == 0 and heatmap.zmin == -heatmap.zmax == pytest.approx(-0.5)


def test_one_tab_at_512_tokens_sends_under_5_mb():
    """The heaviest views at the decoder's full size, serialised as Streamlit sends them (float32 arrays)."""
    n_layers, n_heads, n = 30, 9, 512
    rng = np.random.default_rng(0)
    one_head = random_attention((n, n), causal=True)
    tokens = [f" word{i}" for i in range(n)]
    heatmap = pio.to_json(figures.attention_heatmap(weights=one_head, tokens=tokens, title="t", causal=True))
    thumbnails = rng.random((n_layers, n_heads, 16, 16)).astype(np.float32)
    overview = pio.to_json(figures.head_overview(thumbnails=thumbnails, layer=2, head=0, n_tokens=n))
    rows = rng.random((n_layers, n)).astype(np.float32)
    referent = sum(len(pio.to_json(f)) for f in (
        figures.referent_bars(weights=rows[0], tokens=tokens, query=100, title="t"),
        figures.referent_layers(weights=rows, tokens=tokens, query=100, layer=2, causal=True),
        figures.difference_by_layer(difference=rows - 0.5, labels=tokens, layer=2, title="t"),
    ))
    assert '"dtype":"f4"' in heatmap  # float32, not text numbers
    assert len(heatmap) < 2e6 and len(overview) < 1e6 and referent < 4e6
    assert len(heatmap) + len(overview) < 5e6


def test_word_merge_feeds_the_heatmap():
    word_ids = (None, 0, 0, 1, None)
    tokens = ["[CLS]", "play", "##ing", "ball", "[SEP]"]
    groups = stats.word_groups(word_ids)
    merged = stats.merge_words(random_attention((5, 5)), groups)
    figure = figures.attention_heatmap(weights=merged, tokens=stats.word_labels(tokens, groups), title="words")
    assert figure.data[0].z.shape == (4, 4)
    assert list(figure.layout.xaxis.ticktext) == ["[CLS]", "playing", "ball", "[SEP]"]


def test_long_inputs_label_at_most_64_tokens_per_axis():
    """128 labels on a page-wide axis overlapped, and plotly.js measured each on every margin pass (seconds)."""
    n = 506
    tokens = [f" word{i}" for i in range(n)]
    rows = random_attention((3, n), causal=False)
    charts = [figures.attention_heatmap(weights=random_attention((n, n)), tokens=tokens, title="t"),
              figures.referent_bars(weights=rows[0], tokens=tokens, query=n - 1, title="t"),
              figures.referent_layers(weights=rows, tokens=tokens, query=n - 1, layer=1)]
    for figure in charts:
        ticks = list(figure.layout.xaxis.tickvals)
        assert 32 < len(ticks) <= 64 and ticks[0] == 0
        assert list(figure.layout.xaxis.ticktext)[1] == tokens[ticks[1]].replace(" ", "␣")
