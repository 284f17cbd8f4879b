"""Every page, both bundled models, the presets, in real Chromium with the internet blocked."""

from pathlib import Path

import pytest
from browser_support import block_internet, choose, open_page, screenshot, wait_idle

from viz.model import BUNDLED
from viz.presets import PRESETS

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
PAGES = ["home"] + sorted(p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "home")
MODELS = ["bundled:minilm", "bundled:smollm2"]
# Two presets per page visit, rotating, so every preset is shown on several pages with each model.
VISITS = [(page, PRESETS[(2 * i + j) % len(PRESETS)].name) for i, page in enumerate(PAGES) for j in range(2)]


@pytest.fixture(scope="module", params=MODELS)
def model_page(request, app_server, browser):
    """One browser tab per model, with every non-loopback request blocked and errors collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("console", lambda message: page.problems.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(app_server.url)
    wait_idle(page)
    choose(page, "Model", BUNDLED[request.param].name)
    wait_idle(page, timeout_ms=180_000)
    page.model_key = request.param
    yield page
    assert blocked == [], f"the app tried to reach the internet: {blocked[:3]}"
    context.close()


def expects_chart(page_stem: str, model_key: str) -> bool:
    return page_stem != "home" and not (page_stem == "next_token" and model_key == "bundled:minilm")


@pytest.mark.parametrize(("page_stem", "preset"), VISITS, ids=[f"{p}-{s}" for p, s in VISITS])
def test_page_draws(model_page, app_server, page_stem, preset):
    page = model_page
    page.problems.clear()
    open_page(page, page_stem)
    wait_idle(page)
    choose(page, "Preset", preset)
    wait_idle(page, timeout_ms=180_000)
    short_model = page.model_key.split(":")[1]
    screenshot(page, f"page-{page_stem}-{short_model}-{preset.replace(' ', '_')}")
    assert page.locator('[data-testid="stException"]').count() == 0
    if page_stem == "attention":  # opens on the BertViz tab: its SVG, drawn inside the iframe
        svg = page.frame_locator("iframe").first.locator("svg").first
        svg.wait_for(timeout=60_000)
        assert svg.evaluate("svg => svg.querySelectorAll('text').length") >= 4, "BertViz drew no tokens"
    elif expects_chart(page_stem, page.model_key):
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        drawn = page.locator(".js-plotly-plot .main-svg").first.evaluate("svg => svg.querySelectorAll('*').length")
        assert drawn > 20, "the first plotly chart is empty"
    assert page.problems == []
