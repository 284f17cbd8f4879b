"""AppTest runs of the Q/K/V page: both bundled models, the shown row against the model, GQA, long and short input."""

import re

import numpy as np
import pytest
from conftest import PARTY
from plotly_support import chart, numbers
from test_app import run_app

from viz.analysis import STORED_ATTENTION_ERROR
from viz.model import analyze

PAGE = "pages/qkv.py"
# the page compares its recomputed weights with the analysis's, which are kept as float16
KEPT_TOLERANCE = 1e-4 + STORED_ATTENTION_ERROR
# section 7's lazy tabs run only when open: a test opens one by session state, as a link would
LEARNED_TAB, WORD_ORDER_TAB = "Learned position embeddings", "Tim chased clouds"


def shown_difference(app) -> float:
    success = next(s.value for s in app.success if "largest difference" in s.value)
    return float(re.search(r"largest difference \*\*([0-9.e+-]+)\*\*", success).group(1))


@pytest.mark.parametrize("model, fixture", [("bundled:minilm", "encoder"), ("bundled:smollm2", "decoder")])
def test_page_row_equals_model_attention(model, fixture, request):
    loaded = request.getfixturevalue(fixture)
    app = run_app(page=PAGE, model_choice=model, text=PARTY)
    assert not app.exception
    analysis = analyze(loaded, PARTY, attention_dtype=np.float32)  # the model's weights before float16 storage
    query = app.selectbox(key="qkv_token").value
    assert analysis.tokens[query].strip() == "party"  # default query token
    layer, head = app.slider(key="qkv_layer").value, app.slider(key="qkv_head").value
    softmax = chart(app, "qkv_step_fig_3" if loaded.info.is_causal else "qkv_step_fig_2")
    assert softmax["layout"]["title"]["text"] == "softmax → weights"
    shown_rows = numbers(softmax["data"][0]["x"])
    np.testing.assert_allclose(shown_rows, analysis.attentions[layer, head, query], atol=1e-4)
    assert shown_difference(app) < KEPT_TOLERANCE
    d = loaded.info.head_dim
    assert any(f"d_k = {d}" in m.value for m in app.markdown)
    keys = chart(app, "qkv_keys_fig")
    assert numbers(keys["data"][0]["z"]).shape == (analysis.n_tokens, d)
    grid = chart(app, "qkv_heads_fig")
    rows = numbers(grid["data"][0]["z"])
    np.testing.assert_allclose(rows, analysis.attentions[layer, :, query], atol=1e-4)


def test_encoder_steps_have_no_mask_and_state_shapes():
    app = run_app(page=PAGE, model_choice="bundled:minilm", text=PARTY)
    titles = [chart(app, f"qkv_step_fig_{i}")["layout"]["title"]["text"] for i in range(3)]
    assert titles == ["q·k", "× 0.1768 = 1/√32", "softmax → weights"]
    assert any("nothing is masked" in m.value for m in app.markdown)
    goes_next = next(m.value for m in app.markdown if "Where it goes next" in m.value)
    assert "12 × 32 numbers" in goes_next and "384 → 384" in goes_next and "LayerNorm" in goes_next
    assert not any("Grouped-query" in i.value for i in app.info)
    assert not any("learned one vector per position" in c.value for c in app.caption)  # a closed tab does not run
    app = run_app(page=PAGE, model_choice="bundled:minilm", text=PARTY, qkv_positions_view=LEARNED_TAB)
    caption = next(c.value for c in app.caption if "learned one vector per position" in c.value)
    assert "512 rows" in caption
    assert not any(frame.key == "qkv_word_order_table" for frame in app.dataframe)
    app = run_app(page=PAGE, model_choice="bundled:minilm", text=PARTY, qkv_positions_view=WORD_ORDER_TAB)
    table = app.dataframe[0].value
    assert list(table["sentence"]) == ["Then Tim chased clouds.", "Then clouds chased Tim."]


def test_decoder_masks_and_explains_grouped_query_heads(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=PARTY)
    app.slider(key="qkv_head").set_value(4).run()
    assert not app.exception
    masked = chart(app, "qkv_step_fig_2")
    assert masked["layout"]["title"]["text"] == "+ causal mask"
    query = app.selectbox(key="qkv_token").value
    texts = masked["data"][0]["text"]
    assert all(t == "−∞" for t in texts[query + 1:]) and "−∞" not in texts[: query + 1]
    grouped = next(i.value for i in app.info if "Grouped-query" in i.value)
    assert "9 query heads but only 3 key/value heads" in grouped
    assert "Query head 4 uses **key/value head 1**" in grouped and "shared with query heads 3, 5" in grouped
    assert shown_difference(app) < KEPT_TOLERANCE
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=PARTY, qkv_positions_view="Rotary embedding")
    rotary = next(c.value for c in app.caption if "Llama adds nothing" in c.value)
    curve, step2 = re.search(r"the curve gives (-?[0-9.]+); the q·k of step 2 is (-?[0-9]+\.[0-9]+)", rotary).groups()
    assert float(curve) == pytest.approx(float(step2), abs=2e-3)
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=PARTY, qkv_positions_view=WORD_ORDER_TAB)
    order = app.dataframe[0].value
    plain = order["… without rotary"].tolist()
    assert plain[0] == pytest.approx(plain[1], abs=1e-3)
    assert order.filter(like="weight Tim → clouds").iloc[0, 0] == 0.0  # Tim comes first: it cannot see clouds


def test_changing_layer_keeps_the_row_exact():
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=PARTY)
    app.slider(key="qkv_layer").set_value(29).run()
    app.selectbox(key="qkv_token").set_value(3).run()
    assert not app.exception
    assert shown_difference(app) < KEPT_TOLERANCE
    assert "layer 29, head 0" in next(s.value for s in app.success if "largest difference" in s.value)


def test_one_token_input_explains_self_attention(decoder):
    assert analyze(decoder, "Hello").n_tokens == 1
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text="Hello")
    assert not app.exception
    assert any("can only attend to" in i.value and "itself" in i.value for i in app.info)
    softmax = chart(app, "qkv_step_fig_3")
    assert numbers(softmax["data"][0]["x"]).tolist() == [1.0]


def test_long_input_shows_top_keys_and_all_on_request(decoder):
    text = "The party was big and loud. " * 60
    n_tokens = analyze(decoder, text).n_tokens
    assert n_tokens > 300
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=text)
    app.selectbox(key="qkv_token").set_value(n_tokens - 20).run()
    assert not app.exception
    assert numbers(chart(app, "qkv_heads_fig")["data"][0]["z"]).shape == (9, n_tokens - 19)  # keys it may see
    keys = numbers(chart(app, "qkv_keys_fig")["data"][0]["z"])
    assert keys.shape == (11, 64)  # the query and the 10 keys it weighs most
    assert any("the 10 keys it weighs most" in c.value for c in app.caption)
    app.toggle(key="qkv_all_keys").set_value(True).run()
    assert numbers(chart(app, "qkv_keys_fig")["data"][0]["z"]).shape[0] == n_tokens
    assert shown_difference(app) < KEPT_TOLERANCE


def test_gpt2_page_uses_learned_positions_and_conv_projection(tiny_gpt2):
    app = run_app(page=PAGE, model_choice="other", model_id="tiny-gpt2", text=PARTY, qkv_positions_view=LEARNED_TAB)
    assert not app.exception
    assert shown_difference(app) < KEPT_TOLERANCE
    goes_next = next(m.value for m in app.markdown if "Where it goes next" in m.value)
    assert "transformer.h[" in goes_next and "32 → 32" in goes_next
    caption = next(c.value for c in app.caption if "learned one vector per position" in c.value)
    assert "(64 rows)" in caption
    assert app.slider(key="qkv_positions").max == 64
