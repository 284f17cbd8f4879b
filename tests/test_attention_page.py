"""AppTest of the Attention page with both bundled models: every tab, presets, empty and very long text."""

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import PARTY, PARTY_POLITICS
from test_app import run_app, run_link

from viz import attention_stats as stats
from viz import js_assets
from viz.figures.common import visible
from viz.model import analyze
from viz.presets import PRESETS
from viz.views import attention as views

PAGE = "pages/attention.py"
MODELS = ["bundled:minilm", "bundled:smollm2"]
REFERENT_TAB = "Who does *it* refer to?"
ANIMAL = "The animal didn't cross the street because it was too tired."
STREET = "The animal didn't cross the street because it was too narrow."


def loaded_for(model, request):
    return request.getfixturevalue("encoder" if model == "bundled:minilm" else "decoder")


def figures_of(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A plotly array as sent to the browser: a typed array (dtype, base64 bytes, shape) or a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.array(value, dtype=float)


def bertviz_params(app) -> dict:
    frames = app.get("iframe")
    assert len(frames) == 1
    return json.loads(re.search(r"const params = (\{.*?\});\n", frames[0].proto.srcdoc).group(1))


@pytest.mark.parametrize("model", MODELS)
def test_bertviz_head_view_of_the_sentence_pair(model, request):
    loaded = loaded_for(model, request)
    app = run_app(page=PAGE, model_choice=model, text=PARTY, text_b=PARTY_POLITICS)
    assert not app.exception
    expected = analyze(loaded, PARTY, PARTY_POLITICS)
    assert f"the second sentence starts at token {expected.sentence_b_start}" in app.caption[0].value
    params = bertviz_params(app)
    layer = app.slider(key="attn_layer").value
    assert params["include_layers"] == [layer]
    assert [view["name"] for view in params["attention"]][:2] == ["All", "Sentence A -> Sentence A"]
    assert params["attention"][0]["left_text"] == [visible(t) for t in expected.tokens]
    np.testing.assert_allclose(params["attention"][0]["attn"][0], expected.attentions[layer], atol=5e-4)
    assert any("MB sent for this view" in caption.value for caption in app.caption)


def test_model_view_and_pair_toggle(encoder):
    app = run_app(page=PAGE, text=PARTY, text_b=PARTY_POLITICS)
    app.toggle(key="attn_pair").set_value(False).run()
    app.button_group(key="attn_bertviz_kind").set_value("Model view").run()
    assert not app.exception
    params = bertviz_params(app)
    assert params["include_layers"] == app.multiselect(key="attn_mv_layers_6").value == [0, 1, 2, 3, 4, 5]
    assert params["include_heads"] == list(range(12)) and len(params["attention"]) == 1
    assert params["attention"][0]["left_text"][-1] == "[SEP]" and len(params["attention"][0]["left_text"]) == 10
    app.multiselect(key="attn_mv_layers_6").set_value([2]).run()
    assert bertviz_params(app)["include_layers"] == [2]


def test_heatmap_shows_the_models_weights(encoder):
    app = run_app(page=PAGE, text=PARTY, text_b="", attn_view="Heatmap")
    app.slider(key="attn_layer").set_value(1).run()
    app.slider(key="attn_head").set_value(3).run()
    assert not app.exception
    z = array(figures_of(app)[0]["data"][0]["z"])
    # the same forward pass; float32 sums may differ in the last bits with the thread count (one per call in the app)
    np.testing.assert_allclose(z, analyze(encoder, PARTY).attentions[1, 3], rtol=0, atol=1e-6)
    assert figures_of(app)[0]["layout"]["title"]["text"] == "Layer 1, head 3"
    assert any("summing over key pieces" in md.value for md in app.markdown)


def test_rollout_and_whole_words(encoder):
    text = "The graduation ceremonies were unforgettable"
    app = run_app(page=PAGE, text=text, text_b="", attn_view="Heatmap")
    app.button_group(key="attn_source").set_value("Rollout").run()
    analysis = analyze(encoder, text)
    layer = app.slider(key="attn_layer").value
    z = array(figures_of(app)[0]["data"][0]["z"])
    np.testing.assert_allclose(z, stats.rollout(analysis.attentions)[layer], atol=1e-6)
    app.toggle(key="attn_words").set_value(True).run()
    assert not app.exception
    figure = figures_of(app)[0]
    groups = stats.word_groups(analysis.word_ids)
    assert len(groups) < analysis.n_tokens  # "unforgettable" is several pieces
    z = array(figure["data"][0]["z"])
    assert z.shape == (len(groups), len(groups))
    np.testing.assert_allclose(z.sum(-1), 1, atol=1e-5)
    assert "unforgettable" in figure["layout"]["xaxis"]["ticktext"]


def test_all_heads_overview_and_summary_on_the_decoder(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=PARTY, text_b="", attn_view="All heads")
    assert not app.exception
    overview = figures_of(app)[0]
    assert array(overview["data"][1]["customdata"]).shape == (30 * 9, 2)
    table = app.dataframe[0].value
    assert len(table) == 270 and table["on previous token"].between(0, 1).all()
    analysis = analyze(decoder, PARTY)
    expected = stats.head_summary_table(analysis.attentions, analysis.special)
    np.testing.assert_allclose(table["on previous token"], expected["on previous token"], atol=1e-3)
    assert any("Most attention **on previous token**" in md.value for md in app.markdown)


@pytest.mark.parametrize("model", MODELS)
def test_who_does_it_refer_to(model, request):
    loaded = loaded_for(model, request)
    app = run_app(page=PAGE, model_choice=model, text=ANIMAL, text_b=STREET, attn_view=REFERENT_TAB)
    assert not app.exception
    analysis = analyze(loaded, ANIMAL)
    query = analysis.find_token("it")
    assert app.selectbox(key="attn_token").value == query
    charts = figures_of(app)
    layer = app.slider(key="attn_layer").value
    np.testing.assert_allclose(array(charts[0]["data"][0]["y"]),
                               analysis.attentions[layer, :, query].astype(np.float32).mean(0), atol=1e-6)
    assert array(charts[1]["data"][0]["z"]).shape == (loaded.info.n_layers, analysis.n_tokens)
    assert any("tired → narrow" in caption.value for caption in app.caption)
    difference = array(charts[3]["data"][0]["z"])
    if loaded.info.is_causal:  # "it" comes before the changed word: a decoder cannot see the change
        assert np.abs(difference).max() == 0
        assert any("only sees the tokens before it" in info.value for info in app.info)
    else:
        assert np.abs(difference).max() > 0.001
        street = analyze(loaded, STREET)
        columns = stats.align_tokens(analysis.tokens, street.tokens)
        change = (stats.aligned_weights(stats.token_attention_by_layer(street.attentions, query), columns, "b")
                  - stats.aligned_weights(stats.token_attention_by_layer(analysis.attentions, query), columns, "a"))
        kept = change[layer][[i for i, column in enumerate(columns) if not column.changed]]
        summary = next(c.value for c in app.caption if c.value.startswith(f"Layer {layer}, from A to B"))
        assert f"gain is {kept.max():+.3f}" in summary and f"loss {kept.min():+.3f}" in summary


@pytest.mark.parametrize("model", MODELS)
def test_empty_text_gives_a_prompt(model):
    app = run_app(page=PAGE, model_choice=model, text="   ", text_b="")
    assert not app.exception
    assert any("Type a sentence" in info.value for info in app.info)


@pytest.mark.parametrize("model", MODELS)
def test_600_words_fall_back_to_plotly(model):
    app = run_app(page=PAGE, model_choice=model, text="word " * 600, text_b="")
    assert not app.exception
    assert any("were dropped" in warning.value for warning in app.warning)
    assert any("up to **128 tokens**" in info.value for info in app.info)
    assert not app.get("iframe")
    assert array(figures_of(app)[0]["data"][0]["z"]).shape == (512, 512)


def test_missing_libraries_show_what_to_run(tmp_path, monkeypatch, encoder):
    monkeypatch.setattr(js_assets, "ASSET_DIR", tmp_path)
    app = run_app(page=PAGE, text=PARTY)
    assert not app.exception and not app.get("iframe")
    assert any("make js" in error.value for error in app.error)


@pytest.mark.parametrize("model", MODELS)
def test_every_preset_draws_bertviz(model, request):
    loaded_for(model, request)
    app = run_app(page=PAGE, model_choice=model)
    for preset in PRESETS:
        app.selectbox(key="preset").select(preset.name).run()
        assert not app.exception, preset.name
        params = bertviz_params(app)
        tokens = params["attention"][0]["left_text"]
        assert len(tokens) == len(params["attention"][0]["attn"][0][0]), preset.name


def test_a_link_opens_the_tab_it_names(encoder):
    app = run_link(PAGE, text=PARTY, text_b="", attn_view="Heatmap")
    assert not app.exception and not app.toast and not app.get("iframe")
    assert figures_of(app)[0]["layout"]["title"]["text"].startswith("Layer ")
    assert app.query_params["attn_view"] == "Heatmap"
    app = run_link(PAGE, text=PARTY, text_b="", attn_view="Nothing")
    assert not app.exception and "'Nothing'" in app.toast[0].value
    assert len(app.get("iframe")) == 1 and "attn_view" not in app.query_params  # the default tab: left out


def test_overview_and_table_picks_set_the_sliders_and_what_linked_keeps(monkeypatch):
    state = {"attn_overview": {"selection": {"points": [{"curve_number": 0}, {"x": 7.0, "y": 2.0}]}}}
    monkeypatch.setattr(views.st, "session_state", state)
    views.on_overview_click()
    assert [state[k] for k in ("attn_layer", "attn_head", "_kept_attn_layer", "_kept_attn_head")] == [2, 7, 2, 7]
    state |= {"attn_table": {"selection": {"rows": [1]}}, "_attn_table_shown": pd.DataFrame({"layer": [0, 4],
                                                                                             "head": [3, 9]})}
    views.on_table_pick()
    assert [state[k] for k in ("attn_layer", "attn_head", "_kept_attn_layer", "_kept_attn_head")] == [4, 9, 4, 9]
    assert all(type(state[k]) is int for k in ("attn_layer", "attn_head"))


def test_a_picked_head_shows_in_the_sliders_the_link_and_the_other_tabs(encoder):
    app = run_app(page=PAGE, text=PARTY, text_b="", attn_view="All heads")
    app.session_state["attn_layer"], app.session_state["attn_head"] = 4, 9  # what a click in the overview does
    app.run()
    assert (app.slider(key="attn_layer").value, app.slider(key="attn_head").value) == (4, 9)
    assert (app.query_params["attn_layer"], app.query_params["attn_head"]) == ("4", "9")
    app.session_state["attn_view"] = "Heatmap"
    app.run()
    assert not app.exception and figures_of(app)[0]["layout"]["title"]["text"] == "Layer 4, head 9"
