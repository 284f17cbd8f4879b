"""Chromium, network cut: BertViz draws its SVG from the inlined libraries, and a "</script>" token stays text."""

import pytest
from browser_support import block_internet, choose, set_text, wait_idle
from conftest import TINY_DIR
from test_attention_stats import random_attention

from viz import js_assets
from viz.bertviz_view import AMD_SHIMS, CDN_REQUIRE_TAG, head_view_html, model_view_html
from viz.model.attention_tensors import as_layer_tensors

pytestmark = pytest.mark.browser
PAYLOAD = "</script><img src=x onerror=alert(1)>"
TOKENS = ["[CLS]", PAYLOAD, "a&b", "<!--", "it", "[SEP]"]
DRAW_MS = 30_000


def watch(page) -> dict[str, list]:
    """Record dialogs (dismissed at once) and script errors of a page."""
    seen = {"dialogs": [], "errors": []}
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    return seen


def offline_page(browser):
    """A page that may load nothing at all from a network."""
    context = browser.new_context()
    blocked = block_internet(context, "about:")
    return context, context.new_page(), blocked


def texts_in_svg(frame) -> list[str]:
    return frame.eval_on_selector_all("svg text", "nodes => nodes.map(n => n.textContent)")


def test_page_html_draws_offline_and_keeps_the_payload_as_text(browser):
    attentions = random_attention((2, 4, len(TOKENS), len(TOKENS)))
    for html in (head_view_html(tokens=TOKENS, attentions=attentions, layer=1),
                 model_view_html(tokens=TOKENS, attentions=attentions, layers=[0, 1], heads=[0, 3])):
        context, page, blocked = offline_page(browser)
        seen = watch(page)
        page.set_content(html)
        page.wait_for_selector("svg", timeout=DRAW_MS)
        page.wait_for_timeout(300)  # time for an injected handler to fire, if there were one
        assert seen == {"dialogs": [], "errors": []} and blocked == []
        assert page.locator("img").count() == 0
        if "include_heads" not in html:  # the head view writes every token as SVG text
            assert PAYLOAD in texts_in_svg(page) and "a&b" in texts_in_svg(page)
        else:
            assert page.locator("svg rect, svg line, svg path").count() > 0
        context.close()


def test_raw_bertviz_html_runs_the_payload(browser):
    """The control: BertViz's own HTML (libraries inlined the same way, nothing escaped) runs the injected code."""
    from bertviz import head_view

    attentions = random_attention((1, 2, len(TOKENS), len(TOKENS)))
    raw = head_view(attention=as_layer_tensors(attentions, layers=[0]), tokens=TOKENS, html_action="return").data
    assets = js_assets.read_assets()
    inline = "".join(f"<script>{assets[name]}</script>" for name in ("d3", "jquery", "requirejs"))
    context, page, _ = offline_page(browser)
    seen = watch(page)
    page.set_content(raw.replace(CDN_REQUIRE_TAG, inline + f"<script>{AMD_SHIMS}</script>"))
    page.wait_for_timeout(1000)
    assert seen["dialogs"] == ["1"]  # alert(1) from the token: the attack the page's escaping stops
    context.close()


@pytest.fixture(scope="module")
def payload_model(tiny_bert):
    """A tiny BERT whose vocabulary has the payload as ONE token, so it reaches BertViz verbatim."""
    from transformers import AutoModel, AutoTokenizer

    folder = TINY_DIR / "tiny-bert-xss"
    if not (folder / "model.safetensors").exists():
        tokenizer = AutoTokenizer.from_pretrained(TINY_DIR / "tiny-bert")
        tokenizer.add_tokens([PAYLOAD])
        model = AutoModel.from_pretrained(TINY_DIR / "tiny-bert")
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return folder.name


def bertviz_frame(page):
    page.wait_for_selector('iframe[data-testid="stIFrame"]', timeout=DRAW_MS)
    frame = page.frame_locator('iframe[data-testid="stIFrame"]')
    frame.locator("svg text").first.wait_for(timeout=DRAW_MS)
    return frame


def click_a_head_in_the_overview(page, *, layer: int, head: int) -> None:
    """On the encoder's 6 × 12 overview, click one picture: the layer and head sliders must follow."""
    page.get_by_role("tab", name="All heads").click()
    wait_idle(page)
    plot = page.locator('[data-testid="stPlotlyChart"] .nsewdrag').first
    plot.wait_for(timeout=DRAW_MS)
    box = plot.bounding_box()
    x, y = box["x"] + box["width"] * (head + 0.5) / 12, box["y"] + box["height"] * (layer + 0.5) / 6
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    wait_idle(page)
    sliders = page.locator('[data-testid="stSlider"] input[type="range"]')
    assert [sliders.nth(i).input_value() for i in range(2)] == [str(layer), str(head)]


def test_attention_page_offline_with_a_script_token(app_server, browser, payload_model):
    context = browser.new_context(viewport={"width": 1300, "height": 1400})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{app_server.url}/attention")
    wait_idle(page)
    frame = bertviz_frame(page)  # the default preset, drawn with the network cut
    assert "party" in frame.locator("svg text").all_text_contents()
    click_a_head_in_the_overview(page, layer=2, head=7)
    page.get_by_role("tab", name="BertViz").click()
    wait_idle(page)
    choose(page, "Model", "Other: Hugging Face id or local folder")
    page.get_by_label("Model id or folder", exact=True).fill(payload_model)
    page.get_by_label("Model id or folder", exact=True).press("Enter")
    wait_idle(page)
    set_text(page, "Text", f"{PAYLOAD} it was")
    wait_idle(page)
    frame = bertviz_frame(page)
    frame.locator("svg text", has_text="onerror").first.wait_for(timeout=DRAW_MS)
    page.wait_for_timeout(500)
    assert PAYLOAD in frame.locator("svg text").all_text_contents()
    assert seen["dialogs"] == [] and seen["errors"] == []
    assert frame.locator("img").count() == 0 and page.locator("img[src='x']").count() == 0
    assert not [url for url in blocked if "cdnjs" in url or "d3" in url or "jquery" in url]
    context.close()
