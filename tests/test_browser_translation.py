"""The Translation page in real Chromium, internet blocked: the offline date model and tiny Marian, T5 and BART
models generate step by step and draw the cross-attention map and BertViz; hostile source text stays inert."""

from urllib.parse import quote

import pytest
from browser_support import block_internet, screenshot, wait_idle
from test_attention_bertviz import PAYLOAD
from translation_support import FAMILIES, tiny_folder

pytestmark = pytest.mark.browser
CODE = '[data-testid="stText"]'


@pytest.fixture(scope="module")
def tab(app_server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 4000})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    page.set_default_timeout(120_000)  # 2 shared cores: a model's first load can take a while
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    assert blocked == [], f"the app tried to reach the internet: {blocked[:3]}"
    context.close()


def open_translation(page, url: str, query: str) -> None:
    page.problems.clear()
    page.goto(f"{url}/translation?{query}")
    wait_idle(page, timeout_ms=240_000)


def assert_drawn(page) -> None:
    """The cross-attention map has cells, BertViz drew tokens in its frame, and nothing failed."""
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    assert page.locator(".js-plotly-plot").count() >= 5  # outputs, cross map, newest strip, three kinds …
    svg = page.frame_locator('iframe[data-testid="stIFrame"]').first.locator("svg").first
    svg.wait_for(timeout=60_000)
    assert svg.evaluate("svg => svg.querySelectorAll('text').length") >= 4, "BertViz drew no tokens"
    assert page.problems == []


def click(page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    page.wait_for_timeout(500)
    wait_idle(page)


def test_date_model_translates_a_date(tab, app_server):
    from viz.model.date_model import DATE_MODEL_DIR

    if not (DATE_MODEL_DIR / "report.json").is_file():
        pytest.skip("the date model is not trained on this machine yet")
    from viz.model.date_model import translate_dates

    source = "Tuesday, 2 December 2026"
    written = translate_dates(DATE_MODEL_DIR, [source])[0]  # the model's own greedy answer (its weights vary by CPU)
    open_translation(tab, app_server.url, "translation_source=" + quote(source))
    click(tab, "Run all")
    tab.wait_for_function(f"() => (document.querySelector('{CODE}')?.innerText || '').includes('{written}')",
                          timeout=60_000)
    screenshot(tab, "translation-dates")
    assert_drawn(tab)
    assert "Alignment head: layer" in tab.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_models_generate_and_draw(tab, app_server, family):
    tiny_folder(family)
    open_translation(tab, app_server.url, f"model=tiny-{family}-seq2seq&translation_source=hello")
    before = tab.locator(CODE).first.inner_text()
    click(tab, "Next step")
    assert tab.get_by_role("button", name="Undo").is_enabled()  # one token was written
    screenshot(tab, f"translation-tiny-{family}")
    assert_drawn(tab)
    assert tab.locator(CODE).first.inner_text() != before or family == "bart"  # tiny BART writes end-of-text


def test_hostile_source_stays_inert(tab, app_server):
    tiny_folder("marian")
    open_translation(tab, app_server.url, "model=tiny-marian-seq2seq&translation_source=" + quote(PAYLOAD))
    click(tab, "Next step")
    screenshot(tab, "translation-hostile")
    assert_drawn(tab)
    assert tab.evaluate("() => window.pwned === undefined") and tab.locator("img[src='x']").count() == 0
