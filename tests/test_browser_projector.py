"""Issue 17, the projector view: every page in presentation mode on a 1280 × 720 and a 1920 × 1080 screen.

Each view must show its page's main chart whole on the first screen (Streamlit scrolls inside its main block, so the
first screen is the viewport before any scrolling) with the controls a teacher does touch (layer, head, Next step),
no button or link label cut, chart text of at least 18 px, the tour box one line with its link and the sidebar
collapsed (and still openable). Both bundled models at both sizes with the default "party (celebration)" preset:
7 pages × 2 sizes × 2 models = 28 views, about 2 minutes. Screenshots of every view go to artifacts/projector/
(git-ignored) for a person to look at. Last, outside presentation mode, the Next-token buttons on a 1366 × 768
laptop with the sidebar open.
"""

from pathlib import Path

import pytest
from browser_support import IDLE_SCRIPT, ROOT, block_internet

from viz.ui.classroom import CHART_FONT_PX

pytestmark = pytest.mark.browser
SHOTS = ROOT / "artifacts" / "projector"
PAGES = ("home", "tokens", "attention", "qkv", "similarity", "projection", "next_token")
MAIN = {  # the page's main chart (every selector listed must be on the first screen)
    "home": [".st-key-home_tokens"],
    "tokens": [".st-key-tok_strip"],
    "attention": ['[data-testid="stMain"] iframe'],  # BertViz's head view
    "qkv": [".st-key-qkv_query_fig", ".st-key-qkv_keys_fig"],  # step 1: the query and the keys
    "similarity": [".st-key-sim_lines_chart"],  # the word's cosine, layer by layer
    "projection": [".st-key-proj_chart"],
    "next_token": [".st-key-next_bars_chart"],
}
ENCODER_MAIN = {"next_token": ['[data-testid="stMain"] [data-testid="stAlert"]']}  # no next token: it says why
REACHABLE = {  # what a teacher does touch stays on the first screen too (the text: one click, in the sidebar)
    "attention": [".st-key-attn_layer", ".st-key-attn_head"],
    "qkv": [".st-key-qkv_layer", ".st-key-qkv_head"],
    "next_token": [".st-key-next_step"],
}
VIEWS = [(model, width, height) for model in ("bundled:smollm2", "bundled:minilm")
         for width, height in ((1280, 720), (1920, 1080))]

# Labels that do not fit: a button or page link with an element whose text is wider than its box and clipped
# ("Next …"), or the button itself reaching past its column (a row of buttons wider than the column).
CUT_LABELS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] button, [data-testid="stMain"] a[data-testid="stPageLink-NavLink"]')]
  .filter(b => b.getBoundingClientRect().width > 0)
  .filter(b => [b, ...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1
                                                        && getComputedStyle(e).overflowX !== 'visible')
               || b.getBoundingClientRect().right > b.closest(
                    '[data-testid="stColumn"], [data-testid="stMainBlockContainer"]').getBoundingClientRect().right + 1)
  .map(b => b.innerText.trim())"""
CHART_TEXT = """chart => Math.min(...[...chart.querySelectorAll(
    '.xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext')]
  .map(t => parseFloat(getComputedStyle(t).fontSize)))"""


def settle(page, timeout_ms: int = 180_000) -> None:
    """The page drawn and the script stopped (the sidebar may be collapsed: attached is enough)."""
    page.wait_for_selector('[data-testid="stSidebar"]', state="attached", timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]',
                           timeout=timeout_ms)
    for _ in range(3):  # the status widget can blink between reruns
        page.wait_for_timeout(400)
        page.wait_for_function(IDLE_SCRIPT, timeout=timeout_ms)


def wait_for_chart(page, stem: str, selectors: list[str]) -> None:
    for selector in selectors:
        page.wait_for_selector(selector, timeout=60_000)
    if stem == "attention":  # BertViz draws its SVG inside the frame
        page.frame_locator('[data-testid="stMain"] iframe').first.locator("svg text").first.wait_for(timeout=60_000)
    elif selectors[0].startswith(".st-key-") and stem not in ("home", "tokens"):
        page.wait_for_selector(f"{selectors[-1]} .js-plotly-plot .main-svg", timeout=60_000)
    page.wait_for_timeout(500)  # plotly's and BertViz's last layout pass


def outside(page, selector: str, width: int, height: int) -> str | None:
    """Why the element is not wholly on the first screen, or None."""
    box = page.locator(selector).first.bounding_box()
    if box is None or box["width"] == 0 or box["height"] == 0:
        return f"{selector} is not drawn"
    right, bottom = box["x"] + box["width"], box["y"] + box["height"]
    if box["x"] < -1 or box["y"] < -1 or right > width + 1 or bottom > height + 1:
        return f"{selector} spans x {box['x']:.0f}–{right:.0f}, y {box['y']:.0f}–{bottom:.0f} of {width} × {height}"
    return None


@pytest.fixture(scope="module", params=VIEWS, ids=[f"{m.split(':')[1]}-{w}x{h}" for m, w, h in VIEWS])
def projector(request, app_server, browser):
    """A fresh browser (no remembered sidebar state) at one screen size; internet blocked, errors collected."""
    model, width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.view = request.param
    yield page
    context.close()
    assert blocked == [], f"the app tried to reach the internet: {blocked[:3]}"


@pytest.mark.parametrize("stem", PAGES)
def test_presentation_mode_fits_the_first_screen(projector, app_server, stem):
    page, (model, width, height) = projector, projector.view
    page.problems.clear()
    page.goto(f"{app_server.url}/{'' if stem == 'home' else stem}?model={model}&present=1")
    settle(page)
    selectors = (ENCODER_MAIN if model == "bundled:minilm" else {}).get(stem, MAIN[stem])
    wait_for_chart(page, stem, selectors)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{model.split(':')[1]}-{stem}-{width}x{height}.png"))  # the first screen

    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "22px"
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "true" and sidebar.bounding_box()["width"] < 2
    problems = [why for why in (outside(page, selector, width, height) for selector in selectors) if why]
    assert problems == [], f"the main chart is not on the first screen: {problems}"
    touched = [] if model == "bundled:minilm" and stem == "next_token" else REACHABLE.get(stem, [])
    problems = [why for why in (outside(page, selector, width, height) for selector in touched) if why]
    assert problems == [], f"a control teachers use is not on the first screen: {problems}"
    tour = page.locator(f".st-key-tour_{stem}")
    assert tour.bounding_box()["height"] < 80 and tour.get_by_test_id("stPageLink-NavLink").count() == 1  # one line
    assert page.evaluate(CUT_LABELS) == [], "button or link labels are cut"
    for chart in page.locator('[data-testid="stMain"] .js-plotly-plot').all():
        if chart.bounding_box() and chart.bounding_box()["y"] < height:  # every chart on the first screen
            assert chart.evaluate(CHART_TEXT) >= CHART_FONT_PX >= 18
    assert page.problems == []


def test_attention_heatmap_tab_labels_fit(app_server, browser):
    """The Attention page's second view, beside the same controls: its source buttons (shortened) are whole.

    The heatmap keeps its own height (cells large enough for 18 px token labels), so it may reach below the fold.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    page.goto(f"{app_server.url}/attention?model=bundled:smollm2&present=1&attn_view=Heatmap")
    settle(page)
    wait_for_chart(page, "heatmap", [".st-key-attn_heatmap"])
    page.screenshot(path=str(SHOTS / "smollm2-attention-heatmap-1280x720.png"))
    assert page.evaluate(CUT_LABELS) == []
    assert page.locator(".st-key-attn_heatmap .js-plotly-plot").evaluate(CHART_TEXT) >= 18
    context.close()
    assert blocked == []


def test_the_sidebar_opens_again(app_server, browser):
    """Collapsed is not gone: the » at the top left opens it, and a rerun (a new text) leaves it open."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    block_internet(context, app_server.url)
    page = context.new_page()
    page.goto(f"{app_server.url}/attention?model=bundled:smollm2&present=1")
    settle(page)
    page.get_by_test_id("stExpandSidebarButton").click()
    page.wait_for_timeout(600)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "false" and sidebar.bounding_box()["width"] > 200
    assert page.get_by_role("switch", name="Presentation mode").is_checked()
    text = page.get_by_label("Text", exact=True)
    text.fill("the cat sat on the mat")
    text.press("Control+Enter")
    page.wait_for_timeout(1000)
    settle(page)
    assert sidebar.get_attribute("data-collapsed") == "false"
    context.close()


def test_laptop_next_token_labels_fit(app_server, browser):
    """Outside presentation mode, on the commonest student screen: the sidebar open and every button label whole."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    page.goto(f"{app_server.url}/next_token?model=bundled:smollm2")
    settle(page)
    page.wait_for_selector(".st-key-next_bars_chart .js-plotly-plot .main-svg", timeout=60_000)
    assert page.locator('[data-testid="stSidebar"]').bounding_box()["width"] > 200
    page.get_by_role("button", name="Next step").click()  # Undo and Start over become active
    settle(page)
    page.wait_for_selector(".st-key-next_bars_chart .js-plotly-plot .main-svg", timeout=60_000)
    assert page.get_by_role("button", name="Undo").is_enabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "laptop-next_token-1366x768.png"))
    labels = page.evaluate("""() => [...document.querySelectorAll('.st-key-next_buttons button')]
                                     .map(b => b.innerText.trim())""")  # "skip_next\n\nNext step": icon, label
    assert [label.splitlines()[-1] for label in labels] == ["Next step", "Run 10 steps", "Undo", "Start over"]
    assert page.evaluate(CUT_LABELS) == []
    context.close()
    assert blocked == []


def test_screenshots_are_git_ignored():
    assert "artifacts/" in (ROOT / ".gitignore").read_text().splitlines()
    assert Path(SHOTS).is_relative_to(ROOT / "artifacts")
