"""Chromium: `streamlit run app.py`, the command every Streamlit user types, works from the first request on.

A pages/ folder beside app.py makes Streamlit wrap the first run of a new server process in its old-style page
menu (see viz/ui/navigation_mode.py); the first browser session then could not switch the model, and a shared link
opened first ran its page alone. Each test starts its own server exactly that way, so its first session is the
first of the process.
"""

import sys
from pathlib import Path

import pytest
from browser_support import AppServer, block_internet, choose, wait_idle

from viz.model import BUNDLED
from viz.presets import DEFAULT_PRESET
from viz.site import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
STREAMLIT = Path(sys.executable).with_name("streamlit")  # the venv's `streamlit` command


@pytest.fixture
def first_session(browser):
    """A new server started as `streamlit run app.py`, and the first browser tab it ever serves."""
    with AppServer(run=[str(STREAMLIT), "run", "app.py"]) as server:
        assert server.command == [str(STREAMLIT), "run", "app.py", "--server.port", str(server.port),
                                  "--server.address", "127.0.0.1", "--server.headless", "true"]
        assert server.env["HF_HUB_OFFLINE"] == "1"
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        blocked = block_internet(context, server.url)
        page = context.new_page()
        page.server = server
        yield page
        context.close()
        assert blocked == [], f"the app tried to reach the internet: {blocked[:3]}"


def sidebar_model(page):
    return page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Model")


def test_the_first_session_switches_to_the_decoder(first_session):
    page = first_session
    page.goto(page.server.url)
    wait_idle(page, timeout_ms=180_000)
    tokens = page.locator('[data-testid="stMainBlockContainer"] [data-testid="stText"]').last
    assert "[CLS]" in tokens.inner_text()  # the encoder's tokens first
    choose(page, "Model", BUNDLED["bundled:smollm2"].name)
    wait_idle(page, timeout_ms=180_000)
    assert page.get_by_role("combobox", name="Model").input_value() == BUNDLED["bundled:smollm2"].name
    assert "model=bundled%3Asmollm2" in page.url
    page.get_by_text(f"{BUNDLED['bundled:smollm2'].name}: 30 layers", exact=False).wait_for(timeout=10_000)
    assert "[CLS]" not in tokens.inner_text() and "graduation" in tokens.inner_text()  # SmolLM2's tokens
    assert page.get_by_label("Text", exact=True).input_value() == DEFAULT_PRESET.text  # nothing else was reset


def test_a_deep_link_as_the_first_request_opens_inside_the_app(first_session):
    page = first_session
    page.goto(f"{page.server.url}/attention?attn_layer=2")
    wait_idle(page, timeout_ms=180_000)
    assert page.url.split("?")[0].endswith("/attention")
    assert "attn_layer=2" in page.url  # the link's own settings survive
    assert sidebar_model(page).count() == 1  # app.py's sidebar, not the page alone
    menu = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    assert [entry.splitlines()[-1] for entry in menu] == [p.title for p in PAGES]  # not Streamlit's list of files
    assert page.locator('[data-testid="stException"]').count() == 0
