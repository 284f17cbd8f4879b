"""AppTest runs for issue 8 on the Attention and Next-token pages: links restore controls, bad links fall back with
a notice, exports match the model, and predict-then-reveal on "who does it refer to?"."""

import numpy as np
import pytest
from plotly_support import chart, numbers
from test_app import run_link
from test_classroom_pages import chart_keys, exported

from viz import attention_stats as stats
from viz.figures.common import visible
from viz.model import analyze

ATTENTION, NEXT = "pages/attention.py", "pages/next_token.py"
REFERENT_TAB = "Who does *it* refer to?"
ANIMAL = "The animal didn't cross the street because it was too tired."


def test_attention_link_restores_tab_layer_head_token(encoder):
    it = analyze(encoder, ANIMAL).find_token("it")
    app = run_link(ATTENTION, text=ANIMAL, text_b="", attn_view=REFERENT_TAB, attn_layer="3", attn_head="7",
                   attn_token=str(it - 1), attn_ref_head="4")
    assert not app.exception and not app.toast
    assert (app.slider(key="attn_layer").value, app.slider(key="attn_head").value) == (3, 7)
    assert app.selectbox(key="attn_token").value == it - 1 and app.selectbox(key="attn_ref_head").value == 4
    assert "attn_ref_bars" in chart_keys(app)  # the tab from the link is the one open
    assert chart(app, "attn_ref_bars")["layout"]["title"]["text"] == "Layer 3: where 'because' looks"
    assert [app.query_params[k] for k in ("attn_layer", "attn_head", "attn_token", "attn_ref_head")] == [
        "3", "7", str(it - 1), "4"]


def test_attention_link_restores_heatmap_controls(encoder):
    app = run_link(ATTENTION, text=ANIMAL, text_b="", attn_view="Heatmap", attn_layer="2", attn_source="Rollout",
                   attn_words="1")
    assert not app.exception and not app.toast
    assert app.toggle(key="attn_words").value is True
    title = chart(app, "attn_heatmap")["layout"]["title"]["text"]
    assert title.startswith("Attention rollout through layers 0–2") and title.endswith("words")
    assert app.query_params["attn_source"] == "Rollout" and app.query_params["attn_words"] == "1"


def test_next_token_link_restores_sampling_settings(decoder):
    app = run_link(NEXT, model="bundled:smollm2", text="London was", text_b="", next_temperature="0.7",
                   next_top_k="5", next_top_p="0.9", next_seed="42", next_mode="argmax", next_steps="3")
    assert not app.exception and not app.toast
    assert app.slider(key="next_temperature").value == pytest.approx(0.7)
    assert app.number_input(key="next_top_k").value == 5 and app.slider(key="next_top_p").value == pytest.approx(0.9)
    assert app.number_input(key="next_seed").value == 42 and app.number_input(key="next_steps").value == 3
    assert app.radio(key="next_mode").value == "argmax"
    bars = chart(app, "next_bars_chart")
    assert bars["layout"]["title"]["text"] == "Next token at temperature 0.7"
    assert sum(text == "top-k = 5 cut" for text in (a["text"] for a in bars["layout"]["annotations"])) == 1
    app.number_input(key="next_top_k").set_value(7).run()
    assert app.query_params["next_top_k"] == "7" and app.query_params["next_temperature"] == "0.7"


def test_next_token_bad_link_values_fall_back_with_a_notice(decoder):
    app = run_link(NEXT, model="bundled:smollm2", text="London was", text_b="", next_temperature="9",
                   next_top_k="-3")
    assert not app.exception
    assert app.slider(key="next_temperature").value == 1.0 and app.number_input(key="next_top_k").value == 0
    notices = " ".join(toast.value for toast in app.toast)
    assert len(app.toast) == 2 and "'9'" in notices and "'-3'" in notices, notices


def test_attention_bad_link_values_fall_back_with_a_notice(encoder):
    app = run_link(ATTENTION, text=ANIMAL, text_b="", attn_view="Heatmap", attn_head="12", attn_source="Everything")
    assert not app.exception
    assert app.slider(key="attn_head").value == 0 and "Layer 5, head 0" in chart(app, "attn_heatmap")["layout"][
        "title"]["text"]
    assert len(app.toast) == 2 and "'Everything'" in " ".join(toast.value for toast in app.toast)


def test_attention_export_matches_the_selected_head(encoder):
    app = run_link(ATTENTION, text=ANIMAL, text_b="", attn_view="All heads", attn_layer="2", attn_head="5")
    document = exported(app, "attention")
    shown, expected = document["json"]["shown"], analyze(encoder, ANIMAL)
    assert document["json"]["tokens"] == list(expected.tokens) and (shown["layer"], shown["head"]) == (2, 5)
    np.testing.assert_allclose(shown["attention"], expected.attentions[2, 5], atol=1e-5)
    table = stats.head_summary_table(expected.attentions, expected.special)
    np.testing.assert_allclose(shown["head_summary"]["on previous token"], table["on previous token"], atol=1e-5)
    assert "attn_overview" in chart_keys(app) and document["html"].count("Plotly.newPlot") == 1


def test_next_token_export_matches_the_bars(decoder):
    app = run_link(NEXT, model="bundled:smollm2", text="London was", text_b="", next_temperature="0.5")
    shown = exported(app, "next_token")["json"]["shown"]
    bars = chart(app, "next_bars_chart")
    np.testing.assert_allclose(shown["next_token"]["probabilities"], numbers(bars["data"][0]["x"])[:-1], atol=1e-5)
    assert shown["settings"]["temperature"] == 0.5 and shown["tokens"] == ["London", " was"]
    lens = shown["logit_lens"]
    assert np.shape(lens["top_probabilities"]) == (decoder.info.n_layers + 1, 2)
    assert lens["top_tokens"][-1][-1] == shown["next_token"]["tokens"][0]  # the last layer's guess is the top bar


def test_predict_then_reveal_hides_the_answer(encoder):
    app = run_link(ATTENTION, quiz="1", text=ANIMAL, text_b="", attn_view=REFERENT_TAB)
    assert not app.exception and "attn_ref_bars" not in chart_keys(app)
    analysis = analyze(encoder, ANIMAL)
    query, layer = analysis.find_token("it"), app.slider(key="attn_layer").value
    weights = stats.token_attention_by_layer(analysis.attentions, query, head=None)[layer]
    weights[analysis.special] = -1
    weights[query] = -1
    answer = visible(analysis.tokens[int(weights.argmax())])
    guess = app.radio(key="attn_reveal_guess")
    assert answer in guess.options and app.toggle(key="attn_reveal").disabled
    guess.set_value(answer).run()
    app.toggle(key="attn_reveal").set_value(True).run()
    assert {"attn_ref_bars", "attn_ref_layers"} <= set(chart_keys(app))
    assert any(m.value.startswith(":material/check_circle: Right") for m in app.markdown)
