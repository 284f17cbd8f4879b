"""AppTest runs of the frame and the home page: presets, both bundled models, bad input."""

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from viz.model import analyze
from viz.presets import PRESETS

TIMEOUT = 120


def run_app(page: str | None = None, **state) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    return app


@pytest.mark.parametrize("model", ["bundled:minilm", "bundled:smollm2"])
@pytest.mark.parametrize("preset", [p.name for p in PRESETS])
def test_every_preset_runs_on_home(model, preset, request):
    loaded = request.getfixturevalue("encoder" if model == "bundled:minilm" else "decoder")
    app = run_app(model_choice=model)
    app.selectbox(key="preset").select(preset).run()
    assert not app.exception
    chosen = next(p for p in PRESETS if p.name == preset)
    assert app.text_area(key="text").value == chosen.text
    assert app.text[0].value == " | ".join(analyze(loaded, chosen.text).tokens)


def test_home_shows_tokens_of_the_text(encoder):
    app = run_app(text="students celebrate the graduation with a big party")
    assert not app.exception
    assert app.text[0].value == "[CLS] | students | celebrate | the | graduation | with | a | big | party | [SEP]"
    assert "6 layers × 12 heads" in app.caption[0].value


@pytest.mark.parametrize("text", ["", "   ", "\x00\x00"])
def test_empty_text_gives_a_prompt(text):
    app = run_app(text=text)
    assert not app.exception
    assert any("Type a sentence" in info.value for info in app.info)


def test_long_text_shows_truncation_notice():
    app = run_app(text="word " * 600)
    assert not app.exception
    assert any("were dropped" in warning.value for warning in app.warning)


def test_unknown_model_shows_error_and_keeps_working():
    app = run_app(model_choice="other", model_id="no-such-user/no-such-model-xyz")
    assert not app.exception
    assert any("Hugging Face Hub" in error.value for error in app.error)
    assert app.text[0].value.startswith("[CLS]")  # still analysed with the previous (default) model


def run_link(page: str | None = None, **params) -> AppTest:
    """Open the app the way a shared link does: with query parameters and a fresh session."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    app.query_params.update(params)
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    return app


def test_link_restores_model_and_text(decoder):
    app = run_link(model="bundled:smollm2", text="London was", text_b="")
    assert not app.exception
    assert app.selectbox(key="model_choice").value == "bundled:smollm2"
    assert app.text[0].value == "London | ␣was".replace("␣", " ")
    assert app.query_params["model"] == "bundled:smollm2"


def test_link_with_unknown_model_falls_back_with_notice():
    app = run_link(model="no-such-user/stale-model", text="Paris will")
    assert not app.exception
    assert any("stale-model" in error.value for error in app.error)
    assert app.text[0].value == "[CLS] | paris | will | [SEP]"


def test_current_view_is_written_to_the_link():
    app = run_app(text="Tim chased clouds")
    assert app.query_params["text"] == "Tim chased clouds"
    assert app.query_params["model"] == "bundled:minilm"
