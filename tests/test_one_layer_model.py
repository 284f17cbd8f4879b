"""A model with one layer and one head (as the Train page or a local folder can give) opens on every page."""

import pytest
from conftest import ROOT, _tiny
from streamlit.testing.v1 import AppTest

from viz.site import PAGES


@pytest.fixture(scope="module")
def one_layer_gpt2(decoder):
    from transformers import GPT2Config

    config = GPT2Config(n_layer=1, n_head=1, n_embd=16, n_positions=64, vocab_size=decoder.info.vocab_size)
    from viz.model.registry import smollm_converted_folder

    return _tiny("tiny-one-layer-gpt2", config, smollm_converted_folder())


@pytest.mark.parametrize("page", [p.file for p in PAGES if p.stem != "train"])
def test_every_page_opens_on_a_one_layer_one_head_model(one_layer_gpt2, page):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.session_state["model_choice"], app.session_state["model_id"] = "other", "tiny-one-layer-gpt2"
    app.session_state["text"] = "students celebrate the graduation with a big party"
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert not app.error  # the model loaded (no fallback to another model)
    assert (one_layer_gpt2.info.n_layers, one_layer_gpt2.info.n_heads) == (1, 1)
    if page in ("pages/attention.py", "pages/qkv.py"):
        assert any(c.value == "Layer: 0 (the only one)" for c in app.caption)
