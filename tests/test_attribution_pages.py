"""AppTest runs of the attribution sections: off until asked, then strips, completeness and rank correlation on Next
token (decoder) and Word senses (encoder); hostile text stays text."""

import re

import numpy as np
import pytest
from conftest import PARTY, PARTY_POLITICS
from plotly_support import chart, numbers
from test_app import run_app


def strip_values(app, key: str) -> np.ndarray:
    z = numbers(chart(app, key)["data"][0]["z"]).astype(float)
    return z[~np.isnan(z)]


def metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def test_next_token_explains_the_top_token_beside_attention(decoder):
    """Also the decoder's completeness check. SmolLM2's logit is far from linear along the path (see
    viz/model/attribution.py); measured on this sentence (top token " said", output 17.40, baseline 22.15):
    |delta| / |output − baseline| 0.18 at 32 steps, 0.0012 at DECODER_IG_STEPS = 128; the test allows 0.01."""
    app = run_app(page="pages/next_token.py", model_choice="bundled:smollm2", text="The dog looked at the boy and")
    assert not app.exception
    assert not [c for c in app.get("plotly_chart") if "next_explain" in c.proto.id]  # nothing computed unasked
    app.toggle(key="next_explain").set_value(True).run()
    assert not app.exception
    integrated, times_input = strip_values(app, "next_explain_ig"), strip_values(app, "next_explain_gxi")
    assert len(integrated) == len(times_input) == 7 and integrated[0] == 0.0  # the kept first token
    assert integrated[4] == pytest.approx(-5.19, abs=0.1)  # measured: " the" lowers " said" the most
    assert "said" in chart(app, "next_explain_ig")["layout"]["title"]["text"]
    difference, delta = float(metric(app, "Difference")), float(metric(app, "Convergence delta"))
    assert difference == pytest.approx(17.40 - 22.15, abs=0.02) and abs(delta) < 0.01 * abs(difference)
    assert any("add up to the difference" in c.value for c in app.caption)
    rho = [m for m in app.metric if m.label.startswith("Attention vs")]
    assert len(rho) == 2 and all(m.value.startswith("ρ = ") for m in rho)
    assert any("layer 29, mean of all heads" in c.value for c in app.caption)  # which attention is compared
    app.selectbox(key="next_explain_rank").set_value(1).run()  # the second bar's token
    assert not app.exception and "said" not in chart(app, "next_explain_ig")["layout"]["title"]["text"]


def test_word_senses_explains_the_cosine_in_both_sentences(encoder):
    app = run_app(page="pages/similarity.py", model_choice="bundled:minilm", text=PARTY, text_b=PARTY_POLITICS)
    assert not app.exception
    app.toggle(key="sim_explain").set_value(True).run()
    assert not app.exception
    first = strip_values(app, "sim_explain_integrated_gradients_0")
    second = strip_values(app, "sim_explain_integrated_gradients_1")
    assert len(first) == len(second) == 10 and first[8] == 0.0 == second[8]  # "party" kept in the baseline
    assert float(metric(app, "Cosine, last layer")) == pytest.approx(0.74, abs=0.02)
    assert first.sum() + second.sum() == pytest.approx(float(metric(app, "Difference")), abs=1e-3)
    assert float(metric(app, "Sum of the shares")) == pytest.approx(first.sum() + second.sum(), abs=1e-3)
    caption = next(c.value for c in app.caption if "pulled the two" in c.value)
    assert "`leader`" in caption and "`celebrate`" in caption


def test_hostile_word_is_shown_as_text(decoder):
    app = run_app(page="pages/next_token.py", model_choice="bundled:smollm2", text="<script>alert(1)</script> was")
    app.toggle(key="next_explain").set_value(True).run()
    assert not app.exception
    cells = [cell for row in chart(app, "next_explain_ig")["data"][0]["text"] for cell in row]
    assert "&lt;" in "".join(cells) and "script" in "".join(cells)  # the pieces, escaped: plotly shows "<"
    ours = [c.value for c in app.caption if "raised the logit" in c.value]
    assert len(ours) == 1 and "`<" in ours[0]  # the strongest tokens name the pieces...
    outside_code = re.sub(r"`[^`]*`", "", ours[0])
    assert "<" not in outside_code and "script" not in outside_code  # ...only inside code spans, never as markup
