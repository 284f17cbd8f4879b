"""AppTest: the Next-token page's attention shading ("Which earlier words did it look at?") holds the newest
position's attention row, checked against the bundled decoder called directly with output_attentions=True."""

import numpy as np
import pytest
import torch
from plotly_support import chart, numbers
from test_app import run_app

from viz.presets import PRESETS

PAGE = "pages/next_token.py"
ELEPHANT = next(p.text for p in PRESETS if p.name == "elephant")


def attention_rows(decoder, ids: list[int]) -> np.ndarray:
    """(L, H, T): how the last position attends to every position, in every layer and head, from one full pass."""
    with torch.inference_mode():
        out = decoder.model(input_ids=torch.tensor([ids]), output_attentions=True, use_cache=False)
    return torch.stack([layer[0, :, -1, :] for layer in out.attentions]).float().numpy()


def shaded(app) -> tuple[np.ndarray, list[str], dict]:
    """The cells of the attention chart in reading order (NaN padding dropped), their labels, and the trace."""
    trace = chart(app, "next_attention")["data"][0]
    grid = numbers(trace["z"]).astype(float)
    labels = [label for row in trace["text"] for label in row]
    cells = grid.ravel()
    count = int(np.isfinite(cells).sum())
    assert np.isfinite(cells[:count]).all()  # filled left to right, row by row
    return cells[:count], labels[:count], trace


def test_default_shading_is_the_last_layers_mean_over_heads(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text=ELEPHANT, next_lens_on=False)
    assert not app.exception
    ids = decoder.tokenizer(ELEPHANT)["input_ids"]
    expected = attention_rows(decoder, ids)[-1].mean(axis=0)  # last layer, mean of all heads
    values, labels, trace = shaded(app)
    assert len(values) == len(ids) == 13
    np.testing.assert_allclose(values, expected, atol=1e-4)
    assert values.sum() == pytest.approx(1.0, abs=1e-3)  # one softmax row, nothing left out
    assert labels[0] == "The" and labels[-1] == "▶␣too"  # the newest position is marked
    assert trace["zmax"] == pytest.approx(expected[1:].max(), abs=1e-4)  # colour scale without the first token
    title = chart(app, "next_attention")["layout"]["title"]["text"]
    assert title == f"Attention of position {len(ids) - 1} (▶) in layer {decoder.info.n_layers - 1}, mean of all heads"


def test_shading_of_one_head_after_a_generated_token(decoder):
    app = run_app(page=PAGE, model_choice="bundled:smollm2", text="London was", next_lens_on=False)
    app.radio(key="next_mode").set_value("argmax")
    app.button(key="next_step").click().run()
    assert not app.exception and app.text[0].value == "London was a"
    app.slider(key="next_attn_layer").set_value(10)
    app.selectbox(key="next_attn_head").set_value(4).run()
    assert not app.exception
    ids = decoder.tokenizer("London was a")["input_ids"]
    rows = attention_rows(decoder, ids)
    values, labels, _ = shaded(app)
    assert labels == ["London", "␣was", "▶␣a"]
    np.testing.assert_allclose(values, rows[10, 4], atol=1e-4)  # the cached step gives the full pass's row
    assert not np.allclose(values, rows[10].mean(axis=0), atol=1e-3)  # one head, not the mean
    assert not np.allclose(values, rows[-1, 4], atol=1e-3)  # layer 10, not the last
    title = chart(app, "next_attention")["layout"]["title"]["text"]
    assert title == "Attention of position 2 (▶) in layer 10, head 4"
