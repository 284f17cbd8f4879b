"""Pure parts of issue 8 (no model, no Streamlit): chart numbers as tables/CSV, JSON, the tour, accessible colours."""

import io
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import ROOT

from viz import tour
from viz.analysis import Analysis, ModelInfo
from viz.export import figure_csv, figure_table, figures_html, view_json
from viz.figures import common
from viz.figures.projection import projection_figure
from viz.figures.qkv import score_bars, weighted_sum_figure
from viz.figures.similarity import cosine_heatmap, layer_lines
from viz.figures.tokens import dense_rows_figure, vector_bars

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


def test_every_colour_scale_of_the_finished_pages_is_a_colour_blind_safe_one():
    safe = {common.SEQUENTIAL, common.DIVERGING}
    for module in ("tokens", "similarity", "projection", "qkv"):
        source = (ROOT / "viz" / "figures" / f"{module}.py").read_text(encoding="utf-8")
        named = set(re.findall(r'colorscale="(\w+)"', source))
        assert not named - safe, (module, named)
    lines = layer_lines(series={"a": [1, 2], "b": [2, 1], "c": [0, 1]}, title="t")
    assert len({trace.marker.symbol for trace in lines.data}) == 3  # shapes, not only colours, tell lines apart
