"""Pure parts of issue 8 (no model, no Streamlit): chart numbers as tables/CSV, JSON, the tour, accessible colours
(the colour scales of the figures the pages build, from small synthetic arrays)."""

import io
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.colors import get_colorscale

from viz import tour
from viz.analysis import Analysis, ModelInfo
from viz.export import figure_csv, figure_table, figures_html, view_json
from viz.figures import attention, common, next_token
from viz.figures import qkv as qkv_figures
from viz.figures.projection import projection_figure
from viz.figures.qkv import score_bars, weighted_sum_figure
from viz.figures.similarity import GROUP_COLOURS, cosine_heatmap, labelled_heatmap, layer_lines
from viz.figures.tokens import dense_rows_figure, one_hot_figure, vector_bars
from viz.sampling import distribution

INFO = ModelInfo("toy", "Toy model", "bert", "encoder", 1, 1, 1, 2, 2, 10, 16)


def toy_analysis(text: str, tokens: tuple[str, ...]) -> Analysis:
    n = len(tokens)
    attentions = np.full((1, 1, n, n), 1 / n, dtype=np.float32)
    return Analysis(INFO, text, None, tokens, np.arange(n), tuple(range(n)), np.zeros(n, bool), attentions,
                    np.ones((2, n, 2), np.float32))


def test_lone_heatmap_becomes_its_labelled_matrix_and_csv_reads_back():
    matrix = np.arange(12, dtype=float).reshape(3, 4) / 11
    figure = cosine_heatmap(matrix=matrix, row_tokens=["a", "我(1/2)", "a"], col_tokens=["x", "y", "z", "w"],
                            title="t")
    table = figure_table(figure)
    assert table.index.tolist() == ["0: a", "1: 我(1/2)", "2: a"]  # duplicates stay apart, text stays text
    assert table.columns.tolist() == ["0: x", "1: y", "2: z", "3: w"]
    back = pd.read_csv(io.StringIO(figure_csv(figure)), index_col=0)
    np.testing.assert_allclose(back.to_numpy(), matrix)


def test_bars_lines_and_overlays_give_one_row_per_point():
    bars = figure_table(score_bars(values=np.array([1.5, -np.inf, 2.0]), labels=["0: a", "1: b", "2: c"], title="q",
                                   reference=np.array([0.1, 0.2, 0.3])))
    assert bars["trace"].tolist() == ["q"] * 3 + ["model's own"] * 3
    assert bars["x"].tolist() == [1.5, 0.0, 2.0, 0.1, 0.2, 0.3]
    assert bars["text"].tolist()[:3] == ["1.500", "−∞", "2.000"]
    lines = figure_table(layer_lines(series={"S1 vs S2": [1.0, 0.9, 0.8], "S1 vs S3": [1.0, 0.95, 0.9]}, title="t"))
    assert lines.groupby("trace")["y"].apply(list).to_dict() == {"S1 vs S2": [1.0, 0.9, 0.8],
                                                                 "S1 vs S3": [1.0, 0.95, 0.9]}
    two_heatmaps = figure_table(weighted_sum_figure(weighted_values=np.ones((2, 3)), output=np.zeros(3),
                                                    labels=["0: a", "1: b"]))
    assert len(two_heatmaps) == 2 * 3 + 3 and set(two_heatmaps["z"]) == {0.0, 1.0}


def test_animated_projection_gives_every_layer_with_plain_hover_text():
    coords = np.random.default_rng(0).normal(size=(3, 4, 2))  # (L+1, N, 2)
    figure = projection_figure(coords=coords, explained=np.full((3, 2), 0.3), group=["S1", "S1", "S2", "S2"],
                               highlight=np.array([True, False, False, True]),
                               hover=["<b>party</b> · S1<br>a &amp; b"] * 4, text=["S1", "S1", "S2", "S2"], title="p")
    table = figure_table(figure)
    assert len(table) == 3 * 4 and sorted(set(table["frame"])) == ["0", "1", "2"]
    layer_two = table[table["frame"] == "2"].sort_values("x")
    np.testing.assert_allclose(layer_two["x"], np.sort(coords[2, :, 0]))
    assert table["label"].iloc[0] == "party · S1 a & b"  # HTML stripped, entities decoded


def test_json_of_several_sentences_is_valid_and_keeps_scripts_as_text():
    analyses = [toy_analysis("我正在吃饭", ("我(1/2)", "我(2/2)")), toy_analysis("a party", ("a", " party"))]
    text = view_json(page="similarity", model=INFO, analyses=analyses,
                     shown={"masked": np.array([0.5, -np.inf], dtype=np.float32), "layer": np.int64(3)})
    document = json.loads(text)  # strict: no NaN / Infinity
    assert "Infinity" not in text and "我(1/2)" in text and "\\u" not in text
    assert document["sentences"][0]["tokens"] == ["我(1/2)", "我(2/2)"] and document["model"]["key"] == "toy"
    assert document["shown"] == {"masked": [0.5, None], "layer": 3}
    single = json.loads(view_json(page="qkv", model=INFO, analyses=analyses[:1], shown={"x": 1}))
    assert single["tokens"] == ["我(1/2)", "我(2/2)"] and single["shown"] == {"x": 1}


def test_offline_html_embeds_plotly_and_escapes_the_title():
    figures = [go.Figure(go.Bar(y=[1, 2])), go.Figure(go.Scatter(y=[3]))]
    html = figures_html(figures, title="<script>alert(1)</script> party")
    assert html.count("Plotly.newPlot") == 2 and len(html) > 1_000_000  # plotly.js itself is inside
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing to fetch: opens offline
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_tour_follows_the_seed_order_with_six_steps():
    assert len(tour.STEPS) == 6 and tour.STEPS[0] == "Text" and tour.STEPS[-1] == "Next-token probabilities"
    covered = [step for stop in tour.STOPS for step in stop.steps]
    assert covered == sorted(covered) and set(covered) == set(range(1, 7))  # in order, none skipped
    assert tour.step_label(tour.stop_for("tokens")) == "Steps 2–3 of 6"
    assert tour.step_label(tour.stop_for("qkv")) == "Step 4 of 6"
    assert tour.neighbours("home") == (None, "tokens") and tour.neighbours("next_token") == ("projection", None)
    assert tour.neighbours("similarity") == ("qkv", "projection")


@pytest.mark.parametrize("figure", [
    dense_rows_figure(tokens=["a", "b"], rows=np.array([[1.0, -1.0], [0.5, 0.0]]), title="t"),
    vector_bars(vector=np.array([1.0, -1.0]), title="t"),
])
def test_positive_is_red_and_negative_blue_on_the_tokens_page_as_elsewhere(figure):
    trace = figure.data[0]
    if trace.type == "heatmap":
        assert trace.colorscale[0][1] != trace.colorscale[-1][1]
        assert trace.reversescale is True  # RdBu reversed: high (positive) = red, as on the Q/K/V page
    else:
        assert list(trace.marker.color) == [common.POSITIVE_COLOUR, common.NEGATIVE_COLOUR]


# The scales the README documents: Viridis for weights, probabilities and similarities; RdBu for signed values.
VIRIDIS, RDBU = "Viridis", "RdBu"
RNG = np.random.default_rng(0)
TOKENS = ["The", " dog", " sat", " down"]
WEIGHTS = RNG.dirichlet(np.ones(4), size=4)  # rows sum to 1, like attention
SIGNED = RNG.normal(size=(4, 6))  # like q, k, q∘k, v and embeddings: both signs

# (name, builder, the scale every heatmap trace of the figure must use)
HEATMAP_FIGURES = [
    ("attention heatmap (decoder)", lambda: attention.attention_heatmap(weights=WEIGHTS, tokens=TOKENS, title="t",
                                                                        causal=True), VIRIDIS),
    ("attention heatmap (encoder)", lambda: attention.attention_heatmap(weights=WEIGHTS, tokens=TOKENS, title="t"),
     VIRIDIS),
    ("head overview", lambda: attention.head_overview(thumbnails=RNG.random((2, 3, 4, 4)), layer=1, head=2,
                                                      n_tokens=4), VIRIDIS),
    ("referent layers", lambda: attention.referent_layers(weights=WEIGHTS, tokens=TOKENS, query=2, layer=1,
                                                          causal=True), VIRIDIS),
    ("attention difference", lambda: attention.difference_by_layer(difference=WEIGHTS - WEIGHTS[::-1],
                                                                   labels=TOKENS, layer=0, title="t"), RDBU),
    ("head grid", lambda: qkv_figures.head_grid(rows=WEIGHTS[:3], tokens=TOKENS, head_labels=["h0", "h1", "h2"],
                                                selected=1, query_label="sat"), VIRIDIS),
    ("q strip", lambda: qkv_figures.vector_strips(vectors=SIGNED[0], labels=["q"], title="q"), RDBU),
    ("k strips", lambda: qkv_figures.vector_strips(vectors=SIGNED, labels=TOKENS, title="k", zmax=2.0), RDBU),
    ("weighted sum", lambda: weighted_sum_figure(weighted_values=SIGNED, output=SIGNED.sum(0), labels=TOKENS),
     RDBU),
    ("position table", lambda: qkv_figures.position_heatmap(table=SIGNED, title="t"), RDBU),
    ("cosine heatmap", lambda: cosine_heatmap(matrix=WEIGHTS * 1.2 - 0.2, row_tokens=TOKENS, col_tokens=TOKENS,
                                              title="t"), VIRIDIS),
    ("word cosine table", lambda: labelled_heatmap(labels=["cat", "dog"], matrix=np.array([[1, 0.4], [0.4, 1]]),
                                                   title="t"), VIRIDIS),
    ("dense embedding rows", lambda: dense_rows_figure(tokens=TOKENS, rows=SIGNED, title="t"), RDBU),
    ("next-token history cells", lambda: next_token.token_cells(labels=TOKENS, values=WEIGHTS[0],
                                                                value_name="probability", title="t", zmax=1.0),
     VIRIDIS),
    ("next-token attention cells", lambda: next_token.token_cells(labels=TOKENS, values=WEIGHTS[3],
                                                                  value_name="attention", title="t", marked=3),
     VIRIDIS),
    ("logit lens grid", lambda: next_token.logit_lens_grid(
        top_labels=[["a", "b"], ["c", "d"], ["e", "f"]], top_probabilities=WEIGHTS[:3, :2], input_labels=TOKENS[:2],
        positions=[0, 1]), VIRIDIS),
]


@pytest.mark.parametrize(("build", "scale"), [case[1:] for case in HEATMAP_FIGURES],
                         ids=[case[0] for case in HEATMAP_FIGURES])
def test_heatmaps_use_viridis_for_weights_and_red_blue_for_signed_values(build, scale):
    assert (common.SEQUENTIAL, common.DIVERGING) == (VIRIDIS, RDBU)
    figure = build()
    heatmaps = [trace for trace in figure.data if trace.type == "heatmap"]
    assert heatmaps, "the figure draws no heatmap"
    for trace in heatmaps:
        assert _stops(trace.colorscale) == _stops(get_colorscale(scale)), (trace.name, scale)
        if scale == RDBU:  # reversed: positive red, negative blue, zero white in the middle of a symmetric range
            assert trace.reversescale is True
            assert trace.zmin == -trace.zmax and trace.zmax > 0
            assert trace.zmid in (None, 0)
        else:  # weights, probabilities and similarities: dark = low, yellow = high, never flipped
            assert not trace.reversescale
            assert trace.zmin is not None and trace.zmin <= 0
    assert figure.layout.coloraxis.colorscale is None  # no shared colour axis overrides the traces' scales


def _stops(colorscale) -> list[tuple[float, str]]:
    """A colour scale's (position, colour) stops, positions rounded (plotly stores 7/9 as 0.7777777777777778)."""
    assert colorscale is not None, "no colour scale set: plotly would fall back to its template's default"
    return [(round(float(position), 9), colour.lower()) for position, colour in colorscale]


def test_red_blue_ends_are_the_documented_positive_and_negative_colours():
    red, blue = get_colorscale(RDBU)[0][1], get_colorscale(RDBU)[-1][1]
    assert red.startswith("rgb(") and blue.startswith("rgb(")
    assert _rgb(red)[0] > _rgb(red)[2] and _rgb(blue)[2] > _rgb(blue)[0]  # reversed scale: high end red
    assert _rgb(common.POSITIVE_COLOUR)[0] > _rgb(common.POSITIVE_COLOUR)[2]
    assert _rgb(common.NEGATIVE_COLOUR)[2] > _rgb(common.NEGATIVE_COLOUR)[0]


def _rgb(colour: str) -> tuple[int, int, int]:
    if colour.startswith("#"):
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(int(part) for part in colour[4:-1].split(","))


DISTRIBUTION = distribution(np.log(np.array([0.5, 0.2, 0.15, 0.1, 0.05])), top_k=3)
# Figures without a colour scale: every mark has a fixed colour (sequence or sense colours, kept/cut, sign).
DISCRETE_FIGURES = [
    ("referent bars", lambda: attention.referent_bars(weights=WEIGHTS[2], tokens=TOKENS, query=2, title="t")),
    ("comparison bars", lambda: attention.comparison_bars(weights_a=WEIGHTS[0], weights_b=WEIGHTS[1], labels=TOKENS,
                                                          name_a="A", name_b="B", title="t")),
    ("score bars", lambda: score_bars(values=np.array([1.5, -np.inf, -2.0, 0.5]), labels=TOKENS, title="q·k",
                                      highlight=2, reference=WEIGHTS[0])),
    ("rotary distances", lambda: qkv_figures.rotary_distance_figure(
        distances=np.arange(5), scores=SIGNED[0, :5], agreement=np.cos(np.arange(5)), marked_distance=2,
        marked_score=0.3, pair_label="a pair")),
    ("layer lines", lambda: layer_lines(series={"a": [1, 0.9], "b": [1, 0.5]}, title="t", marked_layer=1)),
    ("one-hot", lambda: one_hot_figure(tokens=TOKENS, token_ids=[5, 9, 2, 7], vocab_size=10)),
    ("embedding bars", lambda: vector_bars(vector=SIGNED[0], title="t")),
    ("next-token bars", lambda: next_token.probability_bars(DISTRIBUTION, token_ids=DISTRIBUTION.ranked(4),
                                                            labels=["a", "b", "c", "d"], top_k=3, chosen_id=1)),
    ("top-5 bars", lambda: next_token.top_bars(labels=["a", "b"], probabilities=np.array([0.5, 0.2]), title="t")),
    ("projection", lambda: projection_figure(coords=RNG.normal(size=(3, 4, 2)), explained=np.full((3, 2), 0.3),
                                             group=["S1", "S1", "S2", "S2"], highlight=np.array([1, 0, 0, 1], bool),
                                             hover=TOKENS, text=TOKENS, title="p")),
]


@pytest.mark.parametrize("build", [case[1] for case in DISCRETE_FIGURES], ids=[case[0] for case in DISCRETE_FIGURES])
def test_bars_lines_and_points_use_fixed_colours_not_a_colour_scale(build):
    figure = build()
    assert figure.layout.coloraxis.colorscale is None
    for trace in figure.data:
        assert trace.type in ("bar", "scatter", "scatter3d")
        assert trace.marker.colorscale is None and not trace.marker.showscale
        colours = trace.marker.color
        if colours is not None:  # a numeric colour per mark would be mapped through a (default) scale
            colours = [colours] if isinstance(colours, str) else list(colours)
            assert all(isinstance(colour, str) for colour in colours), trace.name


def test_groups_of_points_and_lines_differ_by_shape_and_colour_blind_safe_colour():
    lines = layer_lines(series={"a": [1, 2], "b": [2, 1], "c": [0, 1]}, title="t")
    assert len({trace.marker.symbol for trace in lines.data}) == 3  # shapes, not only colours, tell lines apart
    projected = projection_figure(coords=RNG.normal(size=(2, 6, 2)), explained=np.full((2, 2), 0.3),
                                  group=["money"] * 3 + ["river"] * 3, highlight=np.ones(6, bool),
                                  hover=["x"] * 6, text=["x"] * 6, title="p")
    drawn = [trace for trace in projected.data if np.asarray(trace.x).size]
    assert [trace.name for trace in drawn] == ["money", "river"]
    assert len({trace.marker.symbol for trace in drawn}) == 2
    assert len({trace.marker.color for trace in drawn}) == 2
    assert {trace.marker.color for trace in drawn} <= set(GROUP_COLOURS)  # Okabe-Ito palette


def test_a_session_export_keeps_no_shared_analysis_alive():
    """Streamlit keeps a closed tab's session for 2 minutes with its export closures: they must not hold the shared
    analysis (313 MB for the decoder at 506 tokens) — views are copied, the analysis' arrays left out."""
    from viz.ui.export import Shown, _for_export

    analysis = toy_analysis("a b", ("a", "b"))
    shown = Shown()
    shown["attention"] = analysis.attentions[0, 0]
    shown.update({"nested": {"row": analysis.hidden_states[1]}, "own": np.ones(3)})
    assert shown["attention"].base is None and shown["nested"]["row"].base is None
    assert np.array_equal(shown["attention"], analysis.attentions[0, 0])
    light = _for_export(analysis)
    assert light.attentions.shape == analysis.attentions.shape
    assert light.attentions.base is not analysis.attentions and light.attentions.strides == (0,) * 4
    assert json.loads(view_json(page="p", model=INFO, analyses=[light], shown=shown))["tokens"] == ["a", "b"]


def test_markup_like_tokens_show_as_written_in_charts_and_csv():
    """Plotly reads <s>, <b>, <a> and entities in its text fields: a Llama-style "<s>" token was drawn struck through
    and vanished. Token labels are escaped for plotly, and the CSV gives the token back as written."""
    tokens = ("<s>", "<b>bold", "a&amp;b")
    figure = attention.attention_heatmap(weights=np.eye(3, dtype=np.float32), tokens=tokens, title="t", causal=False)
    assert list(figure.layout.xaxis.ticktext) == ["&lt;s&gt;", "&lt;b&gt;bold", "a&amp;amp;b"]
    table = pd.read_csv(io.StringIO(figure_csv(figure).lstrip("\ufeff")))
    assert {"0: <s>", "1: <b>bold", "2: a&amp;b"} <= set(table.astype(str).to_numpy().ravel()) | set(table.columns)
