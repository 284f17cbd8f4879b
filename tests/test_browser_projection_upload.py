"""Chromium: a teacher uploads their own sense set as a CSV on the PCA projection page, types the shared word, and
the projection and the "where do the senses separate?" scores are drawn from the uploaded sentences."""

import pytest
from browser_support import block_internet, screenshot, upload_sense_set

pytestmark = pytest.mark.browser

MONEY = [
    "she opened a savings account at the bank",
    "the bank charged a fee for the transfer",
    "he paid the cheque into the bank on friday",
    "the bank lent the company a million pounds",
    "our bank closed its branch on the high street",
]
RIVER = [
    "the heron stood still on the bank of the river",
    "we pulled the canoe up onto the bank",
    "reeds grew thickly along the bank of the canal",
    "the river burst its bank after the storm",
    "a fisherman sat on the steep bank all afternoon",
]
CSV = "sentence,sense\n" + "".join(f"{s},money\n" for s in MONEY) + "".join(f"{s},river\n" for s in RIVER)

# Every plotly chart of the page: [name, number of points, hover texts] per trace, as plotly.js drew it.
TRACES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => gd._fullData.map(
    t => ({name: t.name, points: t.x ? t.x.length : 0, hover: Array.from(t.customdata || [])})))"""


def test_uploaded_sense_set_is_projected_and_scored(app_server, browser, tmp_path):
    upload = tmp_path / "bank senses.csv"
    upload.write_text(CSV, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    upload_sense_set(page, app_server.url, upload, "bank", timeout_ms=180_000)
    screenshot(page, "projection-csv-upload")

    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stHeading"]').filter(has_text="Where do the senses separate?").count() == 1
    projection, separation = page.evaluate(TRACES)
    drawn = [trace for trace in projection if trace["points"]]
    assert [(trace["name"], trace["points"]) for trace in drawn] == [("money", 5), ("river", 5)]
    plot = page.locator(".js-plotly-plot").first
    assert plot.locator(".scatterlayer path.point").count() == 10  # ten points in the SVG
    assert [entry.text_content() for entry in plot.locator(".legend .traces").all()] == ["money", "river"]
    title = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.title.text")
    assert "PCA of 10 vectors — layer 6" in title  # MiniLM's last layer, one point per sentence
    for trace, sentences in zip(drawn, (MONEY, RIVER), strict=True):  # the uploaded sentences, not a built-in set
        assert [hover.split("<br>", 1)[1] for hover in trace["hover"]] == sentences
        assert all(hover.startswith("<b>bank</b> · S") and f", {trace['name']}<br>" in hover
                   for hover in trace["hover"])
    assert [(trace["name"], trace["points"]) for trace in separation] == [("silhouette", 7),
                                                                         ("nearest-centroid accuracy", 7)]
    assert page.get_by_text("Best separated at layer").count() == 1
    assert page.get_by_text("The 10 sentences").count() == 1  # the expander listing the upload
    assert errors == [] and blocked == []
    context.close()
