"""AppTest runs of the Next-token page: bars for the decoder, generation steps, undo, revisiting a step, the encoder
message, masked-LM fill-in, empty text and the context limit."""


import pytest
import torch
from plotly_support import chart, numbers
from test_app import run_app
from test_next_token_model import tiny_bert_mlm  # noqa: F401  (fixture)

PAGE = "pages/next_token.py"




def bar_labels(app) -> list[str]:
    return chart(app, "next_bars_chart")["layout"]["yaxis"]["ticktext"]


def history(app) -> list[str]:
    pills = [element for element in app.get("button_group") if element.key == "next_history"]
    return list(pills[0].options) if pills else []


def test_decoder_bars_steps_and_undo(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text="London was")
    assert not app.exception
    bars = chart(app, "next_bars_chart")
    assert bars["layout"]["yaxis"]["ticktext"][0] == "1. ␣a"
    assert numbers(bars["data"][0]["x"])[0] == pytest.approx(0.12, abs=0.02)
    assert bars["layout"]["yaxis"]["ticktext"][-1] == f"rest: {decoder.info.vocab_size - 10:,} other tokens"
    assert app.text[0].value == "London was" and history(app) == []
    assert any("layer" in c.value and "␣a" in c.value for c in app.caption)  # logit lens settles on " a"
    app.radio(key="next_mode").set_value("argmax").run()
    app.button(key="next_step").click().run()
    assert not app.exception
    assert app.text[0].value == "London was a" and history(app) == ["␣a"]
    assert bar_labels(app)[0] != "1. ␣a"  # the bars now predict the token after " a"
    app.button(key="next_undo").click().run()
    assert app.text[0].value == "London was" and history(app) == []
    assert bar_labels(app)[0] == "1. ␣a"


def test_run_steps_equals_generate_and_revisit(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text="The dog looked at the boy and")
    app.radio(key="next_mode").set_value("argmax")
    app.number_input(key="next_steps").set_value(4)
    app.button(key="next_run").click().run()
    assert not app.exception
    ids = decoder.tokenizer("The dog looked at the boy and")["input_ids"]
    with torch.inference_mode():
        expected = decoder.model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=4, pad_token_id=0)
    assert app.text[0].value == decoder.tokenizer.decode(expected[0])
    assert len(history(app)) == 4
    first = history(app)[0]
    app.button_group(key="next_history").set_value(0).run()  # revisit the bars that chose the first token
    assert not app.exception
    assert bar_labels(app)[0] == f"1. {first}"  # argmax chose the top bar
    assert any(c.value.startswith("Step 1 took") for c in app.caption)
    widths = chart(app, "next_bars_chart")["data"][0]["marker"]["line"]["width"]
    assert widths[0] == 3  # the chosen token is outlined


def test_sessions_on_one_prompt_share_its_reading_and_grow_apart(decoder):
    """Thirty students on the teacher's preset: the prompt is read once (one entry in the shared "prompts" cache),
    and one session's steps do not reach another's run."""
    from viz.ui.cached import _caches

    prompt = "Sessions share the reading of this prompt"
    before = len(_caches()["prompts"])
    first = run_app(page=PAGE, model_choice="bundled:smollm2", text=prompt)
    second = run_app(page=PAGE, model_choice="bundled:smollm2", text=prompt)
    assert len(_caches()["prompts"]) == before + 1
    first.radio(key="next_mode").set_value("argmax").run()
    first.button(key="next_step").click().run()
    second.run()
    assert second.button(key="next_undo").disabled  # its own run has no step to undo
    assert not first.exception and not second.exception
    assert len(history(first)) == 1 and history(second) == []
    assert first.text[0].value != prompt and second.text[0].value == prompt
    third = run_app(page=PAGE, model_choice="bundled:smollm2", text=prompt)  # a newcomer starts from the prompt
    assert third.text[0].value == prompt and history(third) == []


def test_sampling_filters_and_seed(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2",
                  text="The white elephant tried to get into the boat but it was too")
    app.number_input(key="next_top_k").set_value(5)
    app.slider(key="next_top_p").set_value(0.5).run()
    assert not app.exception
    bars = chart(app, "next_bars_chart")
    assert bars["layout"]["yaxis"]["ticktext"][0] == "1. ␣big"  # the seed article's answer
    cuts = sorted(shape["y0"] for shape in bars["layout"]["shapes"])
    assert cuts[-1] == 4.5  # top-k = 5 cut below the fifth bar
    kept = next(m for m in app.metric if m.label.startswith("Kept"))
    assert int(kept.value) == round(cuts[0] + 0.5)  # top-p keeps the bars above its cut
    app.number_input(key="next_seed").set_value(11)
    app.number_input(key="next_steps").set_value(3)
    app.button(key="next_run").click().run()
    text = app.text[0].value
    app.button(key="next_reset").click().run()
    assert history(app) == []
    app.button(key="next_run").click().run()
    assert app.text[0].value == text  # same seed, same tokens


def test_temperature_limits_and_top_p_zero(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text="London was")
    entropies = []
    for temperature in (0.1, 2.0):
        app.slider(key="next_temperature").set_value(temperature).run()
        assert not app.exception
        entropies.append(float(next(m for m in app.metric if m.label == "Entropy").value.split()[0]))
    assert entropies[0] < entropies[1]
    app.slider(key="next_top_p").set_value(0.0).run()
    assert next(m for m in app.metric if m.label.startswith("Kept")).value == "1"
    app.button(key="next_step").click().run()
    assert not app.exception and history(app) == ["␣a"]  # only the top token can be sampled


def test_encoder_says_it_does_not_predict(encoder):
    app = run_app(page=PAGE, model_choice="bundled:minilm", text="students celebrate the graduation with a big party")
    assert not app.exception
    assert any("does not predict a next token" in i.value for i in app.info)
    assert any("no masked-language-model head" in c.value for c in app.caption)
    assert not app.get("plotly_chart")


def test_encoder_with_mlm_head_fills_in_the_blank(tiny_bert_mlm):  # noqa: F811
    app = run_app(page=PAGE, model_choice="other", model_id=tiny_bert_mlm.spec.location,
                  text="paris is the [MASK] of france")
    assert not app.exception
    assert app.selectbox(key="next_mask_position").value == 4  # the [MASK] token
    bars = chart(app, "next_mask_bars")
    assert len(bars["layout"]["yaxis"]["ticktext"]) == 11
    assert numbers(bars["data"][0]["x"]).sum() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("model, expected", [("bundled:smollm2", "beginning-of-text token"),
                                             ("bundled:minilm", "does not predict a next token")])
def test_empty_text(model, expected):
    app = run_app(page=PAGE, model_choice=model, text="")
    assert not app.exception
    assert any(expected in i.value for i in app.info)
    if model == "bundled:smollm2":
        assert numbers(chart(app, "next_bars_chart")["data"][0]["x"])[0] > 0
        app.button(key="next_step").click().run()
        assert not app.exception and len(history(app)) == 1


def test_context_limit_stops_generation(tiny_gpt2):
    limit = tiny_gpt2.info.max_tokens  # 64 positions
    app = run_app(page=PAGE, model_choice="other", model_id=tiny_gpt2.spec.location, text="word " * 80)
    assert not app.exception
    assert any("were dropped" in w.value for w in app.warning)
    assert any(f"reached {limit:,} tokens" in w.value for w in app.warning)
    assert app.button(key="next_step").disabled and app.button(key="next_run").disabled


def test_tokenizer_panel_compares_spellings(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text="Paris will", next_lens_on=False)
    assert not app.exception
    assert app.text_input(key="next_compare").value == "paris will"
    own, other = (element.value for element in app.dataframe)
    assert own["id"].tolist() == decoder.tokenizer("Paris will")["input_ids"]
    assert own["token"].tolist() == ["Paris", "␣will"] and other["token"].tolist() == ["par", "is", "␣will"]
    assert any("“paris” takes 2 tokens: par + is" in c.value for c in app.caption)
    assert not [c for c in app.get("plotly_chart") if c.proto.id.endswith("-next_lens_grid")]  # lens switched off
