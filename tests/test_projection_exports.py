"""AppTest runs of the PCA projection page's downloads: the JSON holds the sentences' tokens and the coordinates by
layer (checked against a PCA computed here from the model's own hidden states); the offline HTML holds the drawn
figure's data and plotly.js itself."""

import json
import re

import numpy as np
import torch
from conftest import PARTY, PARTY_POLITICS
from plotly_support import chart, numbers
from test_app import run_app

from viz.sense_sets import BUILT_IN

PAGE = "pages/projection.py"
DANCED = "we danced all night at the birthday party"  # the third default sentence
SENTENCES = [PARTY, PARTY_POLITICS, DANCED]


def exports(app) -> dict:
    made = app.session_state["_projection_exports"]
    return {"json": json.loads(made["json"].make().decode("utf-8")), "html": made["html"].make().decode("utf-8")}


def hidden_words(encoder, text: str) -> np.ndarray:
    """Hidden states (L+1, T-2, D) of the text's tokens without [CLS] and [SEP], from the model called directly."""
    inputs = encoder.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        out = encoder.model(**inputs, output_hidden_states=True)
    return torch.stack(out.hidden_states)[:, 0, 1:-1].float().numpy()


def pca_by_layer(states: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """PCA of unit-length vectors fitted per layer: coordinates (L+1, N, dims), explained share (L+1, dims)."""
    coords, explained = [], []
    for layer in states.astype(np.float64):
        unit = layer / np.linalg.norm(layer, axis=-1, keepdims=True)
        centred = unit - unit.mean(axis=0)
        _, singular, axes = np.linalg.svd(centred, full_matrices=False)
        coords.append(centred @ axes[:dims].T)
        explained.append(singular[:dims] ** 2 / (singular**2).sum())
    return np.stack(coords), np.stack(explained)


def html_figures(html: str) -> list[dict]:
    """The data (and frames) of every figure in a plotly offline HTML page, parsed back from its scripts."""
    decoder, figures = json.JSONDecoder(), []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', html):
        data, _ = decoder.raw_decode(html, match.end())
        figure = {"id": match.group(1), "data": data, "frames": []}
        frames = re.search(r"Plotly\.addFrames\('" + re.escape(match.group(1)) + r"',\s*", html)
        if frames:
            figure["frames"] = decoder.raw_decode(html, frames.end())[0]
        figures.append(figure)
    return figures


def trace_points(document: dict, trace_name: str) -> np.ndarray:
    """Indices of the exported points a trace draws: its group, and highlighted or not ("… (chosen word)")."""
    shown = document["shown"]
    group = trace_name.removesuffix(" (chosen word)")
    highlighted = trace_name.endswith(" (chosen word)")
    return np.array([i for i, (g, h) in enumerate(zip(shown["group"], shown["highlighted"], strict=True))
                     if g == group and h == highlighted], dtype=int)


def test_projection_json_and_html_hold_tokens_coordinates_and_figure(encoder):
    app = run_app(page=PAGE)
    assert not app.exception
    made = exports(app)
    document, html = made["json"], made["html"]
    layers = encoder.info.n_layers

    # the analysed sentences, with the tokenizer's own tokens
    assert document["page"] == "projection" and document["model"]["key"] == "bundled:minilm"
    assert [s["text"] for s in document["sentences"]] == SENTENCES
    for sentence in document["sentences"]:
        ids = encoder.tokenizer(sentence["text"])["input_ids"]
        assert sentence["token_ids"] == ids
        assert sentence["tokens"] == encoder.tokenizer.convert_ids_to_tokens(ids)

    # coordinates by layer: (layers + 1, points, 2), the same PCA as one computed here from the model's states
    states = np.concatenate([hidden_words(encoder, text) for text in SENTENCES], axis=1)
    shown = document["shown"]
    coords = np.array(shown["coordinates_by_layer"])
    explained = np.array(shown["variance_explained_by_layer"])
    assert coords.shape == (layers + 1, states.shape[1], 2) == (7, 24, 2)
    assert explained.shape == (layers + 1, 2)
    assert shown["method"] == "PCA" and shown["dimensions"] == 2 and shown["start_layer"] == layers
    assert shown["points"] == ["S1"] * 8 + ["S2"] * 8 + ["S3"] * 8
    assert np.flatnonzero(shown["highlighted"]).tolist() == [7, 15, 23]  # "party" ends every sentence
    expected_coords, expected_explained = pca_by_layer(states)
    np.testing.assert_allclose(explained, expected_explained, atol=1e-4)
    assert np.all(explained[:, 0] >= explained[:, 1]) and np.all(explained.sum(axis=1) <= 1 + 1e-6)
    np.testing.assert_allclose(np.abs(coords), np.abs(expected_coords), atol=1e-4)  # an axis may be flipped

    # the offline HTML: plotly.js inside, nothing fetched, and the drawn chart's points for every layer
    assert "plotly.js v" in html and len(html) > 1_000_000
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)
    assert "PCA projection · " + encoder.info.name in html
    (figure,) = html_figures(html)
    drawn = chart(app, "proj_chart")
    assert [trace["name"] for trace in figure["data"]] == [trace["name"] for trace in drawn["data"]]
    assert len(figure["frames"]) == layers + 1
    for trace in figure["data"]:  # the first view is the last layer
        points = trace_points(document, trace["name"])
        np.testing.assert_allclose(numbers(trace["x"]), coords[layers, points, 0], atol=1e-5)
        np.testing.assert_allclose(numbers(trace["y"]), coords[layers, points, 1], atol=1e-5)
    for layer, frame in enumerate(figure["frames"]):
        assert frame["name"] == str(layer)
        for trace, frame_trace in zip(figure["data"], frame["data"], strict=True):
            points = trace_points(document, trace["name"])
            np.testing.assert_allclose(numbers(frame_trace["x"]), coords[layer, points, 0], atol=1e-5)
            np.testing.assert_allclose(numbers(frame_trace["y"]), coords[layer, points, 1], atol=1e-5)


def test_sense_set_exports_labels_separation_and_both_charts(encoder):
    app = run_app(page=PAGE)
    app.radio(key="proj_source").set_value("Built-in sense set").run()
    app.selectbox(key="proj_set").set_value("bank").run()
    assert not app.exception
    made = exports(app)
    shown, html = made["json"]["shown"], made["html"]
    bank = BUILT_IN["bank"]
    assert shown["sense"] == list(bank.labels) and shown["group"] == list(bank.labels)
    assert np.array(shown["coordinates_by_layer"]).shape == (encoder.info.n_layers + 1, len(bank.sentences), 2)
    separation = shown["separation_by_layer"]
    assert set(separation) == {"silhouette", "nearest-centroid accuracy"}
    assert all(len(values) == encoder.info.n_layers + 1 for values in separation.values())
    assert all(0 <= value <= 1 for value in separation["nearest-centroid accuracy"])
    figures = html_figures(html)
    assert len(figures) == 2  # the projection and the separation lines
    lines = {trace["name"]: numbers(trace["y"]) for trace in figures[1]["data"]}
    for name, values in separation.items():
        np.testing.assert_allclose(lines[name], values, atol=1e-5)
    assert [t["name"] for t in figures[0]["data"] if numbers(t["x"]).size] == ["money", "river"]
