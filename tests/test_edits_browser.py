""""Compare with an edit" in real Chromium: the decoder on Attention and Next token, the encoder on Attention and Word
senses, opened by link with the edit switched on; hostile text typed into the edit box."""

from urllib.parse import urlencode

import pytest
from browser_support import offline_tab, screenshot, wait_idle

pytestmark = pytest.mark.browser
ANIMAL = "The animal didn't cross the street because it was too tired."
ELEPHANT = "The white elephant tried to get into the boat but it was too"
PARTY = "students celebrate the graduation with a big party"
POLITICS = "deputy leader is highly respected in the party"
VISITS = [  # (page, model, text, second sentence, the edit's link key, text that shows the diff was drawn)
    ("attention", "bundled:smollm2", ANIMAL, "", "attn_edit", "edited − original"),
    ("attention", "bundled:minilm", ANIMAL, "", "attn_edit", "edited − original"),
    ("next_token", "bundled:smollm2", ELEPHANT, "", "next_edit", "KL(original ‖ edited)"),
    ("similarity", "bundled:minilm", PARTY, POLITICS, "sim_edit", "solid before the edit"),
]


@pytest.fixture(scope="module")
def tab(app_server, browser):
    yield from offline_tab(browser, app_server.url)


@pytest.mark.parametrize(("stem", "model", "text", "text_b", "key", "drawn"), VISITS,
                         ids=[f"{v[0]}-{v[1].split(':')[1]}" for v in VISITS])
def test_edit_section_draws(tab, app_server, stem, model, text, text_b, key, drawn):
    tab.problems.clear()
    query = urlencode({"model": model, "text": text, "text_b": text_b, f"{key}_on": "1"})
    tab.goto(f"{app_server.url}/{stem}?{query}")
    wait_idle(tab, timeout_ms=180_000)
    tab.get_by_text(drawn).first.wait_for(timeout=60_000)
    screenshot(tab, f"edit-{stem}-{model.split(':')[1]}")
    assert tab.locator('[data-testid="stException"]').count() == 0
    assert tab.get_by_text("Compare with an edit").count() >= 1
    assert tab.problems == []


def test_hostile_text_in_the_edit_box(tab, app_server):
    tab.problems.clear()
    query = urlencode({"model": "bundled:minilm", "text": ANIMAL, "attn_edit_on": "1"})
    tab.goto(f"{app_server.url}/attention?{query}")
    wait_idle(tab, timeout_ms=180_000)
    box = tab.get_by_label("The text with one word changed", exact=True)
    box.fill("<script>alert(1)</script> <img src=x onerror=alert(2)>")
    box.press("Control+Enter")
    tab.get_by_text("<script>alert(1)</script>", exact=False).first.wait_for(timeout=60_000)
    wait_idle(tab)
    screenshot(tab, "edit-attention-hostile")
    assert tab.locator('[data-testid="stException"]').count() == 0
    assert tab.problems == []  # no alert dialog, no page error
    box.fill("")
    box.press("Control+Enter")
    tab.get_by_text("The edit box is empty").wait_for(timeout=60_000)
