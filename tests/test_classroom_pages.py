"""AppTest runs for issue 8 on the finished pages: links restore controls, bad links fall back with a notice,
exports match the analysis, presentation mode, the tour, predict-then-reveal, non-Latin text."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import PARTY, PARTY_POLITICS
from test_app import run_app, run_link

from viz import similarity as sim
from viz.analysis import STORED_ATTENTION_ERROR
from viz.model import analyze
from viz.ui.export import chart_csv
from viz.ui.widgets import SAME_SENSE_SENTENCE

CHINESE = "我正在吃饭"
LONG = "The animal didn't cross the street because it was too tired, and then it slept for a very long time."


def chart_keys(app) -> list[str]:
    return [chart.proto.id.rsplit("-", 1)[-1] for chart in app.get("plotly_chart")]


def csv_of(app, key: str) -> pd.DataFrame:
    """The CSV file a chart's download link gives, parsed back."""
    data = chart_csv(app.session_state["_charts"][key])
    assert data.startswith("\ufeff".encode())  # byte-order mark: spreadsheets read the UTF-8 right
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", index_col=0)


def exported(app, page: str) -> dict:
    """The page's downloads, made as a click makes them: {"json": document, "html": text}."""
    exports = app.session_state[f"_{page}_exports"]
    files = {name: export.make().decode("utf-8") for name, export in exports.items()}
    return {**files, "json": json.loads(files["json"])}


def test_similarity_link_restores_every_control(encoder):
    extra = "we danced all night at the birthday party\nthe party voted against the bill"
    app = run_link("pages/similarity.py", sim_sentences=extra, sim_word="party", sim_reference="1", sim_layer="3",
                   sim_a="1", sim_b="2", sim_one="3", sim_occurrence="2", sim_skip_special="0")
    assert not app.exception and not app.toast
    assert app.text_area(key="sim_sentences").value == extra and app.text_input(key="sim_word").value == "party"
    assert app.selectbox(key="sim_reference").value.startswith("S2: deputy")
    assert app.slider(key="sim_layer").value == 3
    assert [app.selectbox(key=k).value[:2] for k in ("sim_a", "sim_b")] == ["S2", "S3"]
    assert not any(box.key == "sim_one" for box in app.selectbox)  # its tab is closed, so it does not run
    assert app.selectbox(key="sim_occurrence").value.startswith("S3, token")
    assert app.toggle(key="sim_skip_special").value is False
    assert [app.query_params[k] for k in ("sim_layer", "sim_a", "sim_reference", "sim_skip_special")] == [
        "3", "1", "1", "0"]  # and back into the address bar (on/off as 1/0), for the next link


def test_similarity_link_opens_the_within_tab(encoder):
    extra = "we danced all night at the birthday party\nthe party voted against the bill"
    app = run_link("pages/similarity.py", sim_sentences=extra, sim_view="Within one sentence", sim_one="3")
    assert not app.exception and not app.toast
    assert app.selectbox(key="sim_one").value[:2] == "S4"
    assert "sim_within_chart" in chart_keys(app) and "sim_cross_chart" not in chart_keys(app)
    assert app.query_params["sim_view"] == "Within one sentence"


def test_projection_link_restores_every_control(encoder):
    app = run_link("pages/projection.py", proj_method="t-SNE", proj_dims="3-D", proj_layer="2", proj_special="1",
                   proj_word="graduation", proj_seed="7", proj_sentences="")
    assert not app.exception and not app.toast
    assert app.radio(key="proj_method").value == "t-SNE" and app.radio(key="proj_dims").value == "3-D"
    assert app.slider(key="proj_layer").value == 2 and app.toggle(key="proj_special").value is True
    assert app.text_input(key="proj_word").value == "graduation" and app.number_input(key="proj_seed").value == 7
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"].startswith("t-SNE (seed 7)") and spec["data"][0]["type"] == "scatter3d"


def test_tokens_link_restores_every_control(encoder):
    app = run_link("pages/tokens.py", tok_token="3", tok_source="hidden state after a layer", tok_layer="4",
                   tok_words="cat, dog, party", tok_probe="2")
    assert not app.exception and not app.toast
    assert app.selectbox(key="tok_token").value == 3 and app.radio(key="tok_source").value.startswith("hidden")
    assert app.slider(key="tok_layer").value == 4 and app.text_input(key="tok_words").value == "cat, dog, party"
    assert app.selectbox(key="tok_probe").value == "3. party"
    title = json.loads(app.get("plotly_chart")[2].proto.spec)["layout"]["title"]["text"]
    assert title.startswith("the (id 1996)") and "hidden state at layer 4" in title


def test_qkv_link_restores_every_control(encoder):
    app = run_link("pages/qkv.py", text=LONG, qkv_layer="2", qkv_head="5", qkv_token="8", qkv_all_keys="1",
                   qkv_positions="20")
    assert not app.exception and not app.toast
    assert (app.slider(key="qkv_layer").value, app.slider(key="qkv_head").value) == (2, 5)
    assert app.selectbox(key="qkv_token").value == 8 and app.toggle(key="qkv_all_keys").value is True
    assert app.slider(key="qkv_positions").value == 20
    n_tokens = len(analyze(encoder, LONG).tokens)
    assert len(json.loads(app.get("plotly_chart")[1].proto.spec)["layout"]["yaxis"]["ticktext"]) == n_tokens


@pytest.mark.parametrize("page, params, defaults", [
    ("pages/similarity.py", {"sim_layer": "99", "sim_a": "9", "sim_skip_special": "maybe"},
     {("slider", "sim_layer"): 6, ("selectbox", "sim_a"): "S1: " + PARTY[:44] + "…",
      ("toggle", "sim_skip_special"): True}),
    ("pages/projection.py", {"proj_dims": "4-D", "proj_method": "UMAP", "proj_layer": "-1"},
     {("radio", "proj_dims"): "2-D", ("radio", "proj_method"): "PCA", ("slider", "proj_layer"): 6}),
    ("pages/tokens.py", {"tok_source": "nonsense", "tok_token": "500"},
     {("radio", "tok_source"): "embedding table row", ("selectbox", "tok_token"): 8}),
    ("pages/qkv.py", {"qkv_positions": "abc", "qkv_layer": "6"},
     {("slider", "qkv_positions"): 128, ("slider", "qkv_layer"): 5}),
    (None, {"present": "sure", "quiz": "2", "tour": "0"},  # the sidebar's switches ("0" is fine: tour off)
     {("toggle", "present"): False, ("toggle", "quiz"): False, ("toggle", "tour"): False}),
])
def test_bad_link_values_fall_back_with_a_notice(encoder, page, params, defaults):
    app = run_link(page, **params)
    assert not app.exception
    for (kind, key), value in defaults.items():
        assert getattr(app, kind)(key=key).value == value, key
    notices = " ".join(toast.value for toast in app.toast)
    bad = [raw for key, raw in params.items() if key != "tour"]
    assert len(app.toast) == len(bad) and all(repr(raw) in notices for raw in bad), notices


def test_similarity_exports_match_the_analysis(encoder):
    app = run_app(page="pages/similarity.py")
    files = exported(app, "similarity")
    document = files["json"]
    expected = [analyze(encoder, text) for text in (PARTY, PARTY_POLITICS, SAME_SENSE_SENTENCE)]
    assert [s["tokens"] for s in document["sentences"]] == [list(a.tokens) for a in expected]
    assert document["model"]["key"] == "bundled:minilm" and document["app_version"] and document["page"] == "similarity"
    cross = sim.cross_similarity(expected[0].hidden_states, expected[1].hidden_states, 6)
    np.testing.assert_allclose(document["shown"]["across"]["cosine"], cross, atol=1e-5)
    assert document["shown"]["by_layer"]["S2"] == pytest.approx([1.0, 0.90, 0.86, 0.81, 0.81, 0.83, 0.74], abs=0.02)
    table = csv_of(app, "sim_cross_chart")
    np.testing.assert_allclose(table.to_numpy(), cross, atol=1e-5)
    assert table.index[8] == "8: party" and table.columns[1] == "1: deputy"
    lines = pd.read_csv(io.BytesIO(chart_csv(app.session_state["_charts"]["sim_lines_chart"])), encoding="utf-8-sig")
    np.testing.assert_allclose(lines[lines["trace"].str.startswith("S1 vs S2")]["y"],
                               document["shown"]["by_layer"]["S2"], atol=1e-5)
    # lines and the across map: the closed "within" tab does not run, so it is neither drawn nor exported
    assert files["html"].count("Plotly.newPlot") == len(chart_keys(app)) == 2 and "Word senses" in files["html"]


def test_qkv_exports_match_the_decoder(decoder):
    app = run_link("pages/qkv.py", model="bundled:smollm2", text="London was", text_b="", qkv_token="1",
                   qkv_head="4")
    document = exported(app, "qkv")["json"]
    analysis = analyze(decoder, "London was", attention_dtype=np.float32)  # before float16 storage
    shown = document["shown"]
    assert document["tokens"] == list(analysis.tokens) and document["token_ids"] == analysis.token_ids.tolist()
    np.testing.assert_allclose(shown["weights"], analysis.attentions[shown["layer"], shown["head"], shown["query"]],
                               atol=1e-5)
    # the exported model weights are the page's, kept as float16
    assert shown["weights"] == pytest.approx(shown["model_weights"], abs=1e-5 + STORED_ATTENTION_ERROR)
    bars = pd.read_csv(io.BytesIO(chart_csv(app.session_state["_charts"]["qkv_step_fig_3"])), encoding="utf-8-sig")
    np.testing.assert_allclose(bars[bars["trace"] == "model's own"]["x"], shown["model_weights"], atol=1e-5)


def test_presentation_mode_enlarges_text_and_hides_secondary_controls(encoder):
    normal = run_link("pages/similarity.py")
    presenting = run_link("pages/similarity.py", present="1")
    assert not presenting.exception and presenting.toggle(key="present").value is True
    styles = [html.proto.body for html in presenting.get("html")]
    assert any("font-size: 22px" in style for style in styles) and not normal.get("html")
    assert [t.key for t in presenting.toggle if t.key == "sim_skip_special"] == []
    assert normal.toggle(key="sim_skip_special").value is True
    spec = json.loads(presenting.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["font"]["size"] == 18 and "font" not in json.loads(normal.get("plotly_chart")[0].proto.spec)[
        "layout"]
    csv_links = [b for b in normal.get("download_button") if b.proto.id.endswith("_csv")]
    assert len(csv_links) == 2 and not [b for b in presenting.get("download_button") if b.proto.id.endswith("_csv")]
    assert presenting.query_params["present"] == "1" and "present" not in normal.query_params


def test_tour_box_says_which_step_and_links_on(encoder):
    app = run_app(page="pages/tokens.py")
    texts = [m.value for m in app.markdown]
    assert any(t.startswith(":material/explore: **Steps 2–3 of 6 · Tokens · One-hot vs embeddings**") for t in texts)
    links = {link.proto.label: link.proto.page for link in app.get("page_link")}
    assert links == {"← Home": "", "Next: Attention →": "attention"}  # home is the default page: ""
    quiet = run_link("pages/tokens.py", tour="0")
    assert not any("of 6" in m.value for m in quiet.markdown) and not quiet.get("page_link")


def test_predict_then_reveal_on_word_senses(encoder):
    app = run_link("pages/similarity.py", quiz="1")
    assert not app.exception and "sim_lines_chart" not in chart_keys(app)
    assert app.toggle(key="sim_reveal").disabled  # guess first
    guess = app.radio(key="sim_reveal_guess")
    assert [o[:2] for o in guess.options] == ["S2", "S3"]
    guess.set_value(guess.options[1]).run()
    app.toggle(key="sim_reveal").set_value(True).run()
    assert chart_keys(app)[0] == "sim_lines_chart"
    # S3, the birthday party, is closest (0.83)
    assert any(m.value.startswith(":material/check_circle: Right") for m in app.markdown)


def test_predict_then_reveal_on_qkv(encoder):
    app = run_link("pages/qkv.py", quiz="1")
    assert "qkv_heads_fig" not in chart_keys(app) and "qkv_sinusoid_sin_fig" in chart_keys(app)
    guess = app.radio(key="qkv_reveal_guess")
    guess.set_value(guess.options[1]).run()
    app.toggle(key="qkv_reveal").set_value(True).run()
    assert "qkv_heads_fig" in chart_keys(app)
    assert any(m.value.startswith(":material/cancel: Not quite: it is **0: \\[CLS\\]**") for m in app.markdown)


@pytest.mark.parametrize("model", ["bundled:minilm", "bundled:smollm2"])
def test_chinese_shows_as_text_on_the_finished_pages(model, request):
    loaded = request.getfixturevalue("encoder" if model == "bundled:minilm" else "decoder")
    tokens = analyze(loaded, CHINESE).tokens
    assert "我" in "".join(tokens) and not any("\ufffd" in t for t in tokens)
    app = run_app(page="pages/tokens.py", model_choice=model, text=CHINESE, text_b="")
    table = next(df.value for df in app.dataframe if "vocabulary entry" in df.value.columns)
    assert table["token"].tolist() == list(tokens)
    if model == "bundled:smollm2":
        assert table["word"].tolist()[0] == CHINESE  # pieces of one character count once
        assert table["vocabulary entry"].tolist()[0] == "æĪ (bytes e6 88)"
    assert CHINESE[0] in exported(app, "tokens")["json"]["tokens"][int(model == "bundled:minilm")]
    for page in ("pages/home.py", "pages/qkv.py", "pages/similarity.py", "pages/projection.py"):
        app.switch_page(page).run()
        assert not app.exception, page
        labels = [t for spec in (json.loads(c.proto.spec) for c in app.get("plotly_chart"))
                  for axis in ("xaxis", "yaxis") for t in spec["layout"].get(axis, {}).get("ticktext", [])]
        assert not any("\ufffd" in str(label) for label in labels), page
        if page.endswith("qkv.py"):
            assert any("我" in label for label in labels)
