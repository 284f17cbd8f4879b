"""Figure builders of the tokens, word-sense and projection pages, on synthetic arrays."""

import numpy as np

from viz.figures.projection import projection_figure
from viz.figures.similarity import cosine_heatmap, labelled_heatmap, layer_lines
from viz.figures.tokens import dense_rows_figure, one_hot_figure, vector_bars


def test_cosine_heatmap_keeps_duplicate_tokens_as_separate_cells():
    matrix = np.random.default_rng(0).uniform(-0.2, 1, size=(3, 4))
    figure = cosine_heatmap(matrix=matrix, row_tokens=["the", "party", "the"], col_tokens=["a", " b", "a", "c"],
                            title="t", row_title="S1", col_title="S2")
    heatmap = figure.data[0]
    assert np.asarray(heatmap.z).shape == (3, 4) and list(heatmap.y) == [0, 1, 2]
    assert list(figure.layout.yaxis.ticktext) == ["the", "party", "the"]
    assert list(figure.layout.xaxis.ticktext) == ["a", "␣b", "a", "c"]
    assert heatmap.zmax == 1.0 and heatmap.zmin == min(0.0, matrix.min())
    assert heatmap.text[1][1] == "1: party<br>1: ␣b"


def test_cosine_heatmap_of_a_long_text_sends_float32_and_64_labels_per_axis():
    n = 506
    tokens = [f"t{i}" for i in range(n)]
    matrix = np.random.default_rng(1).uniform(-0.2, 1, size=(n, n))
    figure = cosine_heatmap(matrix=matrix, row_tokens=tokens, col_tokens=tokens, title="t")
    assert '"dtype":"f4"' in figure.to_json() and figure.data[0].text is None
    np.testing.assert_allclose(figure.data[0].z, matrix, atol=1e-6)
    assert figure.data[0].zmin == matrix.min()  # the colour range from the exact values
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        assert 32 < len(axis.tickvals) <= 64 and [axis.ticktext[i] for i in (0, 1)] == ["t0", tokens[axis.tickvals[1]]]


def test_labelled_heatmap_prints_values():
    figure = labelled_heatmap(labels=["cat", "dog"], matrix=np.array([[1, 0.9832], [0.9832, 1]]), title="toy")
    assert figure.data[0].texttemplate == "%{z:.4f}"
    assert list(figure.layout.xaxis.ticktext) == ["cat", "dog"]


def test_layer_lines_one_trace_per_series_over_layers():
    figure = layer_lines(series={"S1 vs S2": [1, 0.9, 0.74], "S1 vs S3": [1, 0.96, 0.83]}, title="party",
                         marked_layer=2, colours={"S1 vs S3": "#000000"})
    assert [t.name for t in figure.data] == ["S1 vs S2", "S1 vs S3"]
    assert list(figure.data[0].x) == [0, 1, 2] and figure.data[1].line.color == "#000000"
    assert figure.layout.shapes[0].x0 == 2  # the marked layer


def test_projection_figure_has_one_frame_per_layer_and_a_player():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(4, 5, 2))
    group = ["S1", "S1", "S2", "S2", "S2"]
    highlight = np.array([False, True, False, False, True])
    figure = projection_figure(coords=coords, explained=np.full((4, 2), 0.25), group=group, highlight=highlight,
                               hover=[f"h{i}" for i in range(5)], text=["", "S1", "", "", "S2"], title="PCA",
                               start_layer=3)
    assert len(figure.frames) == 4 and [f.name for f in figure.frames] == ["0", "1", "2", "3"]
    assert [t.name for t in figure.data] == ["S1", "S1 (chosen word)", "S2", "S2 (chosen word)"]
    np.testing.assert_allclose(figure.data[1].x, [coords[3, 1, 0]])  # starts at the chosen layer
    np.testing.assert_allclose(figure.frames[0].data[3]["x"], [coords[0, 4, 0]])
    assert list(figure.data[2].customdata) == ["h2", "h3"]
    assert figure.data[1].marker.size > figure.data[0].marker.size
    assert figure.layout.updatemenus[0].buttons[0].label == "▶ Play"
    assert list(figure.layout.updatemenus[0].buttons[0].args[0]) == ["0", "1", "2", "3"]  # plays from layer 0
    assert figure.layout.sliders[0].active == 3 and len(figure.layout.sliders[0].steps) == 4
    assert "PC1 25%" in figure.layout.title.text and "layer 3" in figure.layout.title.text
    low, high = figure.layout.xaxis.range
    assert low < coords[..., 0].min() and high > coords[..., 0].max()  # fixed over all layers


def test_projection_figure_in_3d_and_single_frame():
    coords = np.random.default_rng(2).normal(size=(1, 4, 3))
    figure = projection_figure(coords=coords, explained=np.zeros((1, 3)), group=["a", "a", "b", "b"],
                               highlight=np.ones(4, dtype=bool), hover=list("wxyz"), text=list("wxyz"),
                               title="t-SNE", axis_name="t-SNE ")
    assert figure.data[1].type == "scatter3d" and not figure.frames and not figure.layout.sliders
    assert [t.name for t in figure.data if len(t.x)] == ["a", "b"]  # all points are the word: no suffix
    assert figure.layout.scene.xaxis.title.text == "t-SNE 1"


def test_one_hot_figure_places_each_token_at_its_id():
    figure = one_hot_figure(tokens=["[CLS]", "party"], token_ids=[101, 2283], vocab_size=30522)
    assert list(figure.data[0].x) == [101, 2283] and list(figure.data[0].y) == [0, 1]
    assert figure.layout.xaxis.range[1] > 30522 and "30,522 columns" in figure.layout.title.text


def test_dense_rows_and_vector_bars():
    rows = np.random.default_rng(3).normal(size=(2, 8))
    dense = dense_rows_figure(tokens=["a", "b"], rows=rows, title="dense")
    assert np.asarray(dense.data[0].z).shape == (2, 8) and dense.data[0].zmid == 0
    bars = vector_bars(vector=np.array([0.5, -0.25, 0.0]), title="party")
    assert list(bars.data[0].y) == [0.5, -0.25, 0.0] and len(set(bars.data[0].marker.color)) == 2


def test_projection_figure_3d_frames_move_z_too():
    coords = np.random.default_rng(4).normal(size=(3, 4, 3))
    figure = projection_figure(coords=coords, explained=np.zeros((3, 3)), group=["a"] * 4,
                               highlight=np.array([True, False, False, False]), hover=list("wxyz"), text=list("wxyz"),
                               title="PCA")
    assert len(figure.frames) == 3 and figure.frames[2].data[0].type == "scatter3d"
    np.testing.assert_allclose(figure.frames[2].data[1].z, [coords[2, 0, 2]])


def test_long_inputs_hover_by_position_without_one_string_per_cell():
    tokens = [f"t{i}" for i in range(300)]
    heatmap = cosine_heatmap(matrix=np.eye(300), row_tokens=tokens, col_tokens=tokens, title="long").data[0]
    assert heatmap.text is None and "row %{y}" in heatmap.hovertemplate
    dense = dense_rows_figure(tokens=tokens, rows=np.ones((300, 576)), title="dense").data[0]
    assert dense.customdata is None and "token %{y}" in dense.hovertemplate
