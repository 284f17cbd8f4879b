"""Hostile and odd input typed into the real page: a clear message or a correct analysis, never script or traceback."""

import pytest
from browser_support import choose, open_page, screenshot, set_text, wait_idle

from viz.model import BUNDLED

pytestmark = pytest.mark.browser

PAYLOAD_MARK = "pwned"  # every script payload below would set window.pwned or open a dialog
CASES = [
    ("empty", "", "Type a sentence"),
    ("whitespace", "   \n  ", "Type a sentence"),
    ("long", "word " * 4000, "were dropped"),
    ("script", "</script><img src=x onerror=\"window.pwned=1;alert(1)\">", None),
    ("iframe", "<iframe srcdoc=\"<script>parent.pwned=1;alert(1)</script>\"></iframe>", None),
    ("quotes", "He said \"hi\" \\ 'there' \\\\n `tick` ${x}", None),
    ("emoji", "thumbs 👍🏽 and wave 👋🏿 family 👨‍👩‍👧", None),
    ("cjk", "我正在吃饭", None),
    ("arabic", "مرحبا بالعالم", None),
    ("zero-width", "zero\u200bwidth\u200djoin\ufefftext", None),
    ("control", "bell\x07 nul\x00 escape\x1b[31m red", None),
]


@pytest.fixture(scope="module")
def page(app_server, browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.page_errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.goto(app_server.url)
    wait_idle(page)
    yield page
    context.close()


def assert_still_answers(page) -> None:
    set_text(page, "Text", "London was")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"stText\"]')?.innerText || '').includes('london')",
        timeout=60_000)
    wait_idle(page)


def assert_nothing_ran(page) -> None:
    assert page.dialogs == []
    assert page.evaluate("() => window.pwned === undefined")
    assert page.locator("img[src='x']").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.page_errors == []


@pytest.mark.parametrize(("name", "text", "message"), CASES, ids=[case[0] for case in CASES])
def test_hostile_text(page, name, text, message):
    set_text(page, "Text", text)
    if message:
        page.get_by_text(message).first.wait_for(timeout=60_000)
    else:  # analysed: the tokens shown are no longer those of the previous text ("London was")
        page.wait_for_function(
            "() => !(document.querySelector('[data-testid=\"stText\"]')?.innerText || 'london').includes('london')",
            timeout=60_000)
    wait_idle(page)
    screenshot(page, f"hostile-{name}")
    if message:
        assert message in page.locator('[data-testid="stMain"]').inner_text()
    else:
        assert page.locator('[data-testid="stText"]').count() == 1
    assert_nothing_ran(page)
    assert_still_answers(page)


def test_lone_surrogate(page):
    area = page.get_by_label("Text", exact=True)
    area.fill("")
    # Python strings with a lone surrogate cannot cross to the browser, so the page's own JS types it.
    area.evaluate("(element) => { element.focus(); document.execCommand('insertText', false, 'half \\ud800 a pair'); }")
    area.press("Control+Enter")
    page.wait_for_timeout(3000)
    screenshot(page, "hostile-lone-surrogate")
    print(page.locator('[data-testid="stMain"]').inner_text()[-300:])
    assert_nothing_ran(page)
    assert_still_answers(page)


@pytest.mark.parametrize(("model_id", "message"), [
    ("no-such-user/no-such-model-xyz", "Hugging Face Hub"),
    ("/etc", "only read from"),
    ("<img src=x onerror=alert(1)>", "not a valid Hugging Face model id"),
])
def test_bad_model_id(page, model_id, message):
    choose(page, "Model", "Other: Hugging Face id or local folder")
    box = page.get_by_label("Model id or folder", exact=True)
    box.fill(model_id)
    box.press("Enter")
    wait_idle(page)
    assert message in page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    assert_nothing_ran(page)
    choose(page, "Model", BUNDLED["bundled:minilm"].name)
    wait_idle(page)
    assert_still_answers(page)


def test_upload_that_is_not_a_csv(page, tmp_path):
    """A binary file named .csv on the projection page: a clear message, and the app keeps answering."""
    fake = tmp_path / "sentences.csv"
    fake.write_bytes(bytes(range(256)) * 8)
    open_page(page, "projection")
    wait_idle(page)
    page.get_by_text("Upload a CSV", exact=True).click()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(fake))
    page.get_by_text("not UTF-8 text").first.wait_for(timeout=60_000)
    wait_idle(page)
    screenshot(page, "hostile-upload-not-csv")
    assert_nothing_ran(page)
    open_page(page, "home")
    wait_idle(page)
    assert_still_answers(page)
