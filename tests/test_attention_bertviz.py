"""BertViz HTML as the page builds it: libraries inline, tokens escaped, only the chosen layers, size bounds."""

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from test_attention_stats import random_attention

from viz import bertviz_view, js_assets
from viz.bertviz_view import ViewTooLarge, head_view_html, model_view_html, safe_json
from viz.figures.common import visible

PAYLOAD = "</script><img src=x onerror=alert(1)>"
TOKENS = ["[CLS]", PAYLOAD, "a&b", "<!--", " party", "\u2028", "[SEP]"]


def params_of(html: str) -> dict:
    """The parameters written into BertViz's script, read back."""
    match = re.search(r"const params = (\{.*?\});\n", html)
    return json.loads(match.group(1))


class Elements(HTMLParser):
    """Every element a browser's HTML parser would create, with its attributes (script bodies are text)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_safe_json_round_trips_without_markup():
    for text in TOKENS:
        encoded = safe_json(text)
        assert json.loads(encoded) == text
        assert not set("<>&") & set(encoded)


def test_head_view_is_inert_self_contained_and_exact():
    attentions = random_attention((6, 12, 7, 7))
    html = head_view_html(tokens=TOKENS, attentions=attentions, layer=4)
    assert PAYLOAD not in html and "<img" not in html and "<!--" not in html
    elements = Elements(html).tags
    scripts = [attrs for tag, attrs in elements if tag == "script"]
    assert len(scripts) == 5  # d3, jQuery, require.js, the AMD shims, BertViz's own
    assert {tag for tag, _ in elements} <= {"html", "head", "meta", "style", "script", "body", "div", "span", "select"}
    nonce = re.search(r"'nonce-([^']+)'", html).group(1)
    assert all(attrs == {"nonce": nonce} for attrs in scripts)  # inline only, no src=, all carrying the nonce
    assert "default-src 'none'" in html
    params = params_of(html)
    view = params["attention"][0]
    assert view["left_text"] == [visible(t) for t in TOKENS]  # exact text, as data
    assert params["include_layers"] == [4] and len(view["attn"]) == 1 and len(view["attn"][0]) == 12
    np.testing.assert_allclose(view["attn"][0], attentions[4], atol=5e-4)  # rounded to 3 decimals
    assert all(len(repr(v).split(".")[-1]) <= 3 for v in view["attn"][0][0][0])
    assert ", " not in html[html.index("const params"):][:2000]  # compact numbers


def test_pair_mode_adds_the_sentence_filters():
    html = head_view_html(tokens=TOKENS, attentions=random_attention((2, 3, 7, 7)), layer=1, sentence_b_start=4)
    names = [view["name"] for view in params_of(html)["attention"]]
    assert names == ["All", "Sentence A -> Sentence A", "Sentence B -> Sentence B", "Sentence A -> Sentence B",
                     "Sentence B -> Sentence A"]
    assert params_of(html)["attention"][2]["left_text"] == [visible(t) for t in TOKENS[4:]]


def test_model_view_sends_only_chosen_layers_and_heads():
    attentions = random_attention((30, 9, 7, 7), causal=True)
    html = model_view_html(tokens=TOKENS, attentions=attentions, layers=[29, 3], heads=[0, 8])
    params = params_of(html)
    assert params["include_layers"] == [3, 29] and params["include_heads"] == [0, 8] and params["total_heads"] == 9
    attn = np.array(params["attention"][0]["attn"])
    assert attn.shape == (2, 2, 7, 7)
    np.testing.assert_allclose(attn[1, 1], attentions[29, 8], atol=5e-4)
    assert params["display_mode"] == "light"


def test_limits_refuse_views_that_would_stall_a_browser():
    n = bertviz_view.BERTVIZ_MAX_TOKENS + 1
    with pytest.raises(ViewTooLarge, match=f"limited to {n - 1} tokens"):
        head_view_html(tokens=["x"] * n, attentions=np.zeros((1, 1, n, n)), layer=0)
    many = np.zeros((30, 9, 128, 128), dtype=np.float32)
    with pytest.raises(ViewTooLarge, match="pick fewer layers or heads"):
        model_view_html(tokens=["x"] * 128, attentions=many, layers=list(range(30)), heads=list(range(9)))
    with pytest.raises(ViewTooLarge, match="at least one layer"):
        model_view_html(tokens=["x"] * 4, attentions=np.zeros((2, 2, 4, 4)), layers=[], heads=[0])


def test_html_stays_small_for_the_decoder_at_64_tokens():
    """Raw BertViz writes 31 MB here (all 30 layers, float32 digits); the page's head view stays under 1 MB."""
    attentions = random_attention((30, 9, 64, 64), causal=True)
    html = head_view_html(tokens=[f" t{i}" for i in range(64)], attentions=attentions, layer=2)
    library_bytes = sum(len(text) for text in js_assets.read_assets().values())
    data_bytes = len(html.encode()) - library_bytes
    estimate = bertviz_view.estimate_data_bytes(n_tokens=64, n_layers=1, n_heads=9, pair=False)
    assert data_bytes < 0.8 * estimate and data_bytes < 200_000  # the estimate is an upper bound
    assert len(html.encode()) < 700_000


def test_missing_libraries_give_a_message_that_says_what_to_run(tmp_path, monkeypatch):
    with pytest.raises(js_assets.MissingAssets, match="make js"):
        js_assets.read_assets(tmp_path)
    (tmp_path / js_assets.ASSETS[0].file_name).write_text("tampered")
    with pytest.raises(js_assets.MissingAssets):
        js_assets.read_assets(tmp_path)
    monkeypatch.setattr(js_assets, "ASSET_DIR", tmp_path)
    with pytest.raises(js_assets.MissingAssets):
        head_view_html(tokens=["a", "b"], attentions=random_attention((1, 1, 2, 2)), layer=0)


def test_libraries_are_pinned_and_present():
    texts = js_assets.read_assets()
    assert set(texts) == {"d3", "jquery", "requirejs"}
    assert 'version = "5.7.0"' in texts["d3"] or "5.7.0" in texts["d3"][:200]
    assert "jQuery v3.7.1" in texts["jquery"][:100]
