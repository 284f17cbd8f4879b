"""Attribution beside attention in real Chromium, opened by link with it switched on: the decoder's Next-token page
(integrated gradients and gradient × input strips under the attention strip) and the encoder's Word-senses page
(each sentence's share of the cosine); hostile text in the sentence stays text."""

from urllib.parse import urlencode

import pytest
from browser_support import offline_tab, screenshot, wait_idle

pytestmark = pytest.mark.browser
SCRIPT = "<script>alert(1)</script> The dog looked at the boy and"
PARTY = "students celebrate the graduation with a big party"
POLITICS = "deputy leader is highly respected in the party"
VISITS = [  # (page, model, text, second sentence, link switch, chart titles the strips must carry)
    ("next_token", "bundled:smollm2", SCRIPT, "", "next_explain",
     ["each token's share of the logit"]),
    ("similarity", "bundled:minilm", PARTY, POLITICS, "sim_explain",
     ["S1: each token's share of the cosine", "S2: each token's share of the cosine"]),
]


@pytest.fixture(scope="module")
def tab(app_server, browser):
    yield from offline_tab(browser, app_server.url)


@pytest.mark.parametrize(("stem", "model", "text", "text_b", "switch", "titles"), VISITS,
                         ids=[f"{v[0]}-{v[1].split(':')[1]}" for v in VISITS])
def test_attribution_strips_draw(tab, app_server, stem, model, text, text_b, switch, titles):
    tab.problems.clear()
    query = urlencode({"model": model, "text": text, "text_b": text_b, switch: "1"})
    tab.goto(f"{app_server.url}/{stem}?{query}")
    wait_idle(tab, timeout_ms=240_000)
    for title in titles:  # plotly draws chart titles as SVG text
        tab.locator(".js-plotly-plot .gtitle", has_text=title).first.wait_for(timeout=240_000)
    screenshot(tab, f"attribution-{stem}-{model.split(':')[1]}")
    assert tab.locator('[data-testid="stException"]').count() == 0
    if stem == "next_token":  # both methods, one strip each, and the completeness check in words
        assert tab.locator(".js-plotly-plot .gtitle", has_text="share of the logit").count() >= 2
        assert tab.get_by_text("integrated-gradients shares").count() >= 1
        assert tab.locator("script", has_text="alert(1)").count() == 0  # the typed script is never a script
    assert tab.problems == []
