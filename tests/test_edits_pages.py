"""AppTest of "Compare with an edit" on the Attention, Word senses and Next-token pages with both bundled models,
and hostile text in the edit box."""

import base64
import json

import numpy as np
import pytest
from conftest import PARTY, PARTY_POLITICS
from test_app import run_app

from viz import edits
from viz.model import analyze
from viz.model.generation import full_rerun_logits

ANIMAL = "The animal didn't cross the street because it was too tired."
STREET = "The animal didn't cross the street because it was too narrow."
MODELS = ["bundled:minilm", "bundled:smollm2"]


def loaded_for(model, request):
    return request.getfixturevalue("encoder" if model == MODELS[0] else "decoder")


def titled(app, part: str) -> dict:
    """The figure spec whose title contains `part`."""
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return next(s for s in specs if part in s["layout"].get("title", {}).get("text", ""))


def array(value) -> np.ndarray:
    """A plotly array as sent to the browser: a typed array (dtype, base64 bytes, shape) or a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.array(value, dtype=float)


def switched_on(page: str, key: str, model: str, text: str, text_b: str = ""):
    app = run_app(page=page, model_choice=model, text=text, text_b=text_b)
    assert not app.exception
    app.toggle(key=f"{key}_on").set_value(True).run()
    assert not app.exception
    return app


@pytest.mark.parametrize("model", MODELS)
def test_attention_page_ranks_heads_by_change(model, request):
    loaded = loaded_for(model, request)
    app = switched_on("pages/attention.py", "attn_edit", model, ANIMAL)
    assert app.text_area(key="attn_edit").value == STREET  # seed 002's classic edit, prefilled
    assert any("“tired” → “narrow”" in c.value for c in app.caption)
    table = next(df.value for df in app.dataframe if "most changed query" in df.value.columns)
    before, after, info = analyze(loaded, ANIMAL), analyze(loaded, STREET), loaded.info
    expected = edits.head_changes(before.attentions, after.attentions, before.tokens, after.tokens,
                                  causal=info.is_causal)
    assert len(table) == info.n_layers * info.n_heads
    layer, head = table.iloc[0]["layer"], table.iloc[0]["head"]
    assert (layer, head) == expected.ranked()[0]
    assert table["change"].is_monotonic_decreasing and table.iloc[0]["change"] > 0.1  # measured 0.163 / 0.303
    assert app.selectbox(key="attn_edit_head").value == f"layer {layer}, head {head}"
    figure = titled(app, f"Layer {layer}, head {head}: edited − original")
    assert figure["data"][0]["zmid"] == 0
    z = array(figure["data"][0]["z"])
    assert z.shape == (before.n_tokens, before.n_tokens)  # same token count: one column per token
    expected_map = after.attentions[layer, head].astype(np.float32) - before.attentions[layer, head]
    if info.is_causal:
        expected_map[np.triu_indices(before.n_tokens, k=1)] = np.nan
    np.testing.assert_allclose(z, expected_map, atol=1e-6)
    shift = [m.value for m in app.markdown if "KL(original ‖ edited)" in m.value]
    assert bool(shift) == info.is_causal
    if info.is_causal:
        kl = edits.distribution_shift(full_rerun_logits(loaded, before.token_ids),
                                      full_rerun_logits(loaded, after.token_ids)).kl_bits
        assert f"{kl:.3f} bits" in shift[0]


def test_attention_page_picks_another_head(encoder):
    app = switched_on("pages/attention.py", "attn_edit", MODELS[0], ANIMAL)
    options = app.selectbox(key="attn_edit_head").options
    app.selectbox(key="attn_edit_head").set_value(options[3]).run()
    assert not app.exception
    layer, head = (part.split()[-1] for part in options[3].split(","))
    assert titled(app, f"Layer {layer}, head {head}: edited − original")


def test_next_token_page_shift_on_the_decoder(decoder):
    """"The white elephant ... into the boat" → "fridge": the KL shown equals the model's own (measured 0.19 bits)."""
    text = "The white elephant tried to get into the boat but it was too"
    app = switched_on("pages/next_token.py", "next_edit", MODELS[1], text)
    edited = app.text_area(key="next_edit").value
    assert edited == text.replace("boat", "fridge")
    ids = decoder.tokenizer(text)["input_ids"], decoder.tokenizer(edited)["input_ids"]
    shift = edits.distribution_shift(full_rerun_logits(decoder, ids[0]), full_rerun_logits(decoder, ids[1]))
    markdown = next(m.value for m in app.markdown if "KL(original ‖ edited)" in m.value)
    assert f"**{shift.kl_bits:.3f} bits**" in markdown and shift.kl_bits > 0.1
    bars = next(json.loads(c.proto.spec) for c in app.get("plotly_chart")
                if json.loads(c.proto.spec)["data"][0].get("name") == "original")
    assert len(bars["data"]) == 2 and len(bars["layout"]["yaxis"]["ticktext"]) == len(shift.token_ids)


def test_next_token_page_says_the_encoder_is_left_out(encoder):
    app = run_app(page="pages/next_token.py", model_choice=MODELS[0], text=ANIMAL)
    assert not app.exception
    assert any("this section is left out" in c.value for c in app.caption)


def test_word_senses_curves_before_and_after(encoder):
    """"graduation" → "election": "party" is unchanged at layer 0 (cosine 1) and moves in later layers."""
    app = switched_on("pages/similarity.py", "sim_edit", MODELS[0], PARTY, PARTY_POLITICS)
    assert app.text_area(key="sim_edit").value == PARTY.replace("graduation", "election")
    figure = titled(app, "solid before the edit")
    names = [trace["name"] for trace in figure["data"]]
    assert names[:3] == ["S1 vs edited S1", "S1 vs S2", "edited S1 vs S2"]
    curve = array(figure["data"][0]["y"])
    assert curve.shape == (7,) and curve[0] == pytest.approx(1.0, abs=1e-5) and curve[-1] < 0.99  # measured 0.907
    before, after = (array(figure["data"][i]["y"])[-1] for i in (1, 2))
    assert after > before + 0.05  # "party" moves toward the political sentence S2: measured 0.74 -> 0.86


def test_word_senses_edit_that_removes_the_word(encoder):
    app = switched_on("pages/similarity.py", "sim_edit", MODELS[0], PARTY, PARTY_POLITICS)
    app.text_area(key="sim_edit").set_value(PARTY.replace("party", "[MASK]")).run()
    assert not app.exception
    assert any("must be in S1 and in its edited text" in i.value for i in app.info)


@pytest.mark.parametrize(("typed", "message"), [
    ("", "The edit box is empty"),
    (ANIMAL, "the same as the text"),
    ("<script>alert(1)</script>", None),
    ("tired " * 3_400, None),  # 20,400 characters: cut to the box's 20,000, then to 512 tokens
])
def test_hostile_text_in_the_edit_box(typed, message, encoder):
    app = switched_on("pages/attention.py", "attn_edit", MODELS[0], ANIMAL)
    app.text_area(key="attn_edit").set_value(typed[:20_000]).run()
    assert not app.exception
    if message:
        assert any(message in i.value for i in app.info)
        assert not any("most changed query" in df.value.columns for df in app.dataframe)
    else:
        assert any("most changed query" in df.value.columns for df in app.dataframe)
    if typed.startswith("<script>"):
        assert any("\\<script\\>alert\\(1\\)\\</script\\>" in c.value for c in app.caption)
    if len(typed) > 10_000:
        assert any("512" in w.value for w in app.warning)


def test_hostile_text_on_the_decoder_next_token_page(decoder):
    app = switched_on("pages/next_token.py", "next_edit", MODELS[1], "London was")
    app.text_area(key="next_edit").set_value("<script>alert(1)</script>").run()
    assert not app.exception
    assert any("KL(original ‖ edited)" in m.value for m in app.markdown)
    app.text_area(key="next_edit").set_value("   ").run()
    assert not app.exception and any("The edit box is empty" in i.value for i in app.info)
