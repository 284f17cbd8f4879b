"""Shared fixtures: each model is loaded once per test run and shared by every test."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY_DIR = ROOT / ".cache" / "test-models"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ATTNVIZ_LOCAL_MODELS"] = str(TINY_DIR)

import pytest  # noqa: E402

from viz.model import load_model, resolve_model  # noqa: E402
from viz.model.registry import minilm_folder, smollm_converted_folder  # noqa: E402

PARTY = "students celebrate the graduation with a big party"
PARTY_POLITICS = "deputy leader is highly respected in the party"


@pytest.fixture(scope="session")
def encoder():
    return load_model(resolve_model("bundled:minilm"))


@pytest.fixture(scope="session")
def decoder():
    return load_model(resolve_model("bundled:smollm2"))


def _tiny(name: str, config, tokenizer_folder: Path):
    """A tiny randomly initialised model saved as a local folder, to test code paths offline."""
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

    folder = TINY_DIR / name
    if not (folder / "model.safetensors").exists():
        torch.manual_seed(0)
        loader = AutoModelForCausalLM if name.endswith("gpt2") else AutoModel
        loader.from_config(config).save_pretrained(folder)
        AutoTokenizer.from_pretrained(tokenizer_folder).save_pretrained(folder)
    return load_model(resolve_model(str(folder)))


@pytest.fixture(scope="session")
def tiny_gpt2(decoder):
    from transformers import GPT2Config

    config = GPT2Config(n_layer=2, n_head=4, n_embd=32, n_positions=64, vocab_size=decoder.info.vocab_size)
    return _tiny("tiny-gpt2", config, smollm_converted_folder())


@pytest.fixture(scope="session")
def tiny_bert():
    from transformers import BertConfig

    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    return _tiny("tiny-bert", config, minilm_folder())


@pytest.fixture(scope="session")
def tiny_distilbert():
    from transformers import DistilBertConfig

    config = DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=64)
    return _tiny("tiny-distilbert", config, minilm_folder())


@pytest.fixture(autouse=True)
def _navigation_app_mode(monkeypatch):
    """Make AppTest treat app.py as the st.navigation app it is, with the app's own switch (viz/ui/navigation_mode.py).

    AppTest builds a new PagesManager and resets Streamlit's pages/ flag before every run, while the app's switch
    acts once per process; so the switch is applied after each of those resets.
    """
    from streamlit.runtime.pages_manager import PagesManager

    from viz.ui.navigation_mode import use_navigation

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        use_navigation()

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="session")
def app_server():
    """One app server for the browser tests of this run (loopback, free port)."""
    from browser_support import AppServer

    with AppServer() as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright; one per test run."""
    from browser_support import launch
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
