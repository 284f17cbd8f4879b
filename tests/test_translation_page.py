"""The Translation page: pure helpers and figures on synthetic arrays, BertViz's encoder–decoder HTML, the page in
AppTest with tiny Marian, T5 and BART models, and every other page's plain message for an encoder–decoder."""

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest
from test_attention_bertviz import PAYLOAD, TOKENS, Elements, params_of
from test_attention_stats import random_attention
from translation_support import FAMILIES, tiny_folder

from viz import seq2seq as s2s
from viz.bertviz_view import ViewTooLarge, encoder_decoder_html
from viz.figures import translation as figures
from viz.figures.common import plotly_label, visible
from viz.site import PAGES

TARGET = ["<pad>", "I", " am", PAYLOAD]


def test_decoder_inputs_drop_a_final_end_token():
    assert s2s.decoder_input_ids(0, (), 1) == (0,)
    assert s2s.decoder_input_ids(0, (5, 6), 1) == (0, 5, 6)
    assert s2s.decoder_input_ids(0, (5, 6, 1), 1) == (0, 5, 6)


def test_strongest_source_and_best_head():
    assert s2s.strongest_source(np.array([0.1, 0.5, 0.1, 0.3]), 2).tolist() == [1, 3]
    assert s2s.head_alignment(np.array([[0.1, 0.2], [0.9, 0.3]])) == (1, 0, pytest.approx(0.9))


def test_cross_heatmap_is_output_by_source_with_the_newest_row_outlined():
    weights = random_attention((4, 7))
    figure = figures.cross_attention_heatmap(weights=weights, source_tokens=TOKENS, row_labels=TARGET, title="x",
                                             marked_row=3)
    assert figure.data[0].z.shape == (4, 7)
    assert list(figure.layout.xaxis.ticktext) == [plotly_label(t) for t in TOKENS]  # markup shown as written
    assert "<img" not in str(figure.data[0].text) and "&lt;img" in figure.data[0].text[0][1]
    shape = figure.layout.shapes[0]
    assert (shape.y0, shape.y1, shape.x1) == (2.5, 3.5, 6.5)
    assert "read source 1" in figure.data[0].text[0][1]


def test_head_scores_outline_the_best_head():
    figure = figures.head_scores_heatmap(scores=np.array([[0.1, 0.2], [0.9, 0.3]]), best=(1, 0), chance=0.25,
                                         title="t")
    assert figure.data[0].text[1][0] == "90%" and "chance: 25%" in figure.layout.title.text
    assert (figure.layout.shapes[0].x0, figure.layout.shapes[0].y0) == (-0.5, 0.5)


def arrays(n_source=7, n_target=4, layers=2, heads=3):
    return {"encoder": random_attention((layers, heads, n_source, n_source)),
            "decoder": random_attention((layers, heads, n_target, n_target), causal=True),
            "cross": random_attention((layers, heads, n_target, n_source))}


def test_bertviz_encoder_decoder_views_are_inert_and_exact():
    data = arrays()
    html = encoder_decoder_html("head", source_tokens=TOKENS, target_tokens=TARGET, layers=[1], **data)
    assert PAYLOAD not in html and "<img" not in html
    assert {tag for tag, _ in Elements(html).tags} <= {"html", "head", "meta", "style", "script", "body", "div",
                                                       "span", "select", "option"}
    assert params_of(html)["default_filter"] == "2" and '<option value="2" selected>Cross</option>' in html
    views = {view["name"]: view for view in params_of(html)["attention"]}
    assert list(views) == ["Encoder", "Decoder", "Cross"]
    assert views["Cross"]["left_text"] == [visible(t) for t in TARGET]
    assert views["Cross"]["right_text"] == [visible(t) for t in TOKENS]
    np.testing.assert_allclose(views["Cross"]["attn"][0], data["cross"][1], atol=5e-4)
    model = params_of(encoder_decoder_html("model", source_tokens=TOKENS, target_tokens=TARGET, layers=[0, 1],
                                           heads=[2], **data))
    assert model["include_layers"] == [0, 1] and np.array(model["attention"][1]["attn"]).shape == (2, 1, 4, 4)


def test_bertviz_encoder_decoder_limits():
    with pytest.raises(ViewTooLarge, match="128 tokens a side"):
        encoder_decoder_html("head", source_tokens=["x"] * 129, target_tokens=TARGET, layers=[0],
                             **arrays(n_source=129))
    with pytest.raises(ViewTooLarge, match="pick fewer layers or heads"):
        encoder_decoder_html("model", source_tokens=["x"] * 128, target_tokens=["y"] * 128, layers=list(range(6)),
                             heads=list(range(8)), **arrays(128, 128, 6, 8))


def open_translation(model_id: str, *, source: str | None = None, typed: str | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.session_state["model_choice"], app.session_state["model_id"] = "other", model_id
    if source is not None:
        app.session_state["translation_source"] = source
    if typed is not None:
        app.session_state["translation_typed"] = typed
    app.run()
    app.switch_page("pages/translation.py")
    app.run()
    assert not app.exception, app.exception
    return app


def outputs_shown(app: AppTest) -> str:
    return app.text[0].value


@pytest.mark.parametrize("family", FAMILIES)
def test_page_generates_step_by_step(family):
    tiny_folder(family)
    app = open_translation(f"tiny-{family}-seq2seq", source="hello world")
    assert not app.error and "cross-attention" in app.subheader[1].value.lower()
    exports = app.session_state["_translation_exports"]
    assert b'"cross_attention"' in exports["json"].make()
    app.button(key="translation_step").click().run()
    assert not app.exception, app.exception
    run = app.session_state["translation_run"]
    assert len(run.outputs) == 1
    if not app.button(key="translation_run_all").disabled:  # tiny BART writes end-of-text at once
        app.button(key="translation_run_all").click().run()
    run = app.session_state["translation_run"]
    assert len(run.outputs) >= 1 and not app.exception
    assert app.button(key="translation_step").disabled  # finished or at the limit
    app.button(key="translation_undo").click().run()
    assert len(app.session_state["translation_run"].outputs) == len(run.outputs) - 1
    app.button(key="translation_step").click().run()
    app.button(key="translation_reset").click().run()
    assert app.session_state["translation_run"].outputs == ()
    assert any("Largest difference from the model's own" in c.value for c in app.caption)


def test_forced_translation_and_hostile_source():
    tiny_folder("marian")
    app = open_translation("tiny-marian-seq2seq", source=PAYLOAD, typed="I am eating")
    assert any("Forced decoding" in c.value for c in app.caption)
    assert outputs_shown(app) == "I am eating"
    assert not app.button  # no generation buttons for a typed translation
    app.text_area(key="translation_source").set_value("  ").run()
    assert not app.exception and any("Type a source text" in i.value for i in app.info)


def test_date_model_when_the_sidebar_model_is_not_an_encoder_decoder():
    """The bundled encoder in the sidebar: the page shows the date model, says why, and its measured alignment."""
    from viz.model.date_model import DATE_MODEL_DIR

    if not (DATE_MODEL_DIR / "report.json").is_file():
        pytest.skip("the date model is not trained on this machine yet")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.session_state["translation_source"] = "12/02/26"
    app.run()
    app.switch_page("pages/translation.py")
    app.run()
    assert any("has no cross-attention" in i.value for i in app.info)
    app.button(key="translation_run_all").click().run()
    from viz.model.date_model import translate_dates

    assert not app.exception and outputs_shown(app) == translate_dates(DATE_MODEL_DIR, ["12/02/26"])[0]
    metrics = {m.label: m.value for m in app.metric}
    assert float(metrics["Held-out dates exactly right"].rstrip("%")) >= 95
    assert any(c.value.startswith("Largest difference") or "Largest difference" in c.value for c in app.caption)


@pytest.mark.parametrize("page", [p.file for p in PAGES if p.stem not in ("train", "translation")])
def test_other_pages_say_plainly_what_an_encoder_decoder_is(page):
    tiny_folder("t5")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.session_state["model_choice"], app.session_state["model_id"] = "other", "tiny-t5-seq2seq"
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert any("applies to encoders and decoders only" in i.value for i in app.info)
