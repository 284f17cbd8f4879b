"""How analyses keep attention weights: float16 for the shared analyses, written layer by layer while the model
runs (viz/model/recorder.py), equal to what the model returns with output_attentions=True."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import PARTY, PARTY_POLITICS

from viz.analysis import STORED_ATTENTION_ERROR
from viz.model import analyze
from viz.model.recorder import forward_with_attentions

FIXTURES = ["encoder", "decoder", "tiny_gpt2", "tiny_bert", "tiny_distilbert"]
TEXT = "The animal didn't cross the street because it was too tired."


def returned_attentions(loaded, text: str) -> np.ndarray:
    """The model's own attentions (L, H, T, T) float32, asked for with output_attentions=True."""
    inputs = loaded.tokenizer(text, return_tensors="pt")
    inputs = {k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    if loaded.info.family == "distilbert":
        inputs.pop("token_type_ids", None)
    with torch.inference_mode():
        out = loaded.model(**inputs, output_attentions=True)
    return torch.stack(out.attentions)[:, 0].numpy()


@pytest.mark.parametrize("fixture", FIXTURES)
def test_recorded_layers_equal_the_returned_attentions(fixture, request):
    loaded = request.getfixturevalue(fixture)
    analysis = analyze(loaded, TEXT, attention_dtype=np.float32)
    np.testing.assert_allclose(analysis.attentions, returned_attentions(loaded, TEXT), rtol=0, atol=1e-7)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_shared_analyses_keep_float16_within_its_rounding(fixture, request):
    loaded = request.getfixturevalue(fixture)
    full = analyze(loaded, PARTY, PARTY_POLITICS, attention_dtype=np.float32).attentions
    kept = analyze(loaded, PARTY, PARTY_POLITICS).attentions
    assert kept.dtype == np.float16 and kept.nbytes == full.nbytes // 2
    error = np.abs(kept.astype(np.float32) - full)
    assert (error <= STORED_ATTENTION_ERROR * full + 3e-8).all()  # 3e-8: half float16's smallest step near 0
    assert error.max() > 0  # really rounded
    np.testing.assert_allclose(kept.astype(np.float32).sum(-1), 1.0, atol=2 * STORED_ATTENTION_ERROR)


def test_unknown_layout_falls_back_to_returned_attentions(tiny_gpt2):
    unknown = replace(tiny_gpt2, info=replace(tiny_gpt2.info, family="unknown"))
    inputs = {"input_ids": torch.tensor([tiny_gpt2.tokenizer(TEXT)["input_ids"]])}
    out, attentions = forward_with_attentions(unknown, inputs, np.float16)
    assert attentions.dtype == np.float16 and out.attentions is None
    np.testing.assert_array_equal(attentions, returned_attentions(tiny_gpt2, TEXT).astype(np.float16))


def test_hooks_record_only_for_their_own_thread(decoder, encoder):
    texts = [f"{PARTY} {i}" for i in range(4)] + [TEXT]
    alone = [analyze(decoder, text, attention_dtype=np.float32).attentions for text in texts]
    with ThreadPoolExecutor(4) as pool:  # analyses and plain calls of the same shared model at once
        together = list(pool.map(lambda text: analyze(decoder, text, attention_dtype=np.float32).attentions, texts))
        plain = list(pool.map(lambda text: returned_attentions(decoder, text), texts))
    for one, other, returned in zip(alone, together, plain, strict=True):
        np.testing.assert_allclose(one, other, rtol=0, atol=1e-6)
        np.testing.assert_allclose(one, returned, rtol=0, atol=1e-6)
    assert analyze(encoder, PARTY).attentions.shape == (6, 12, 10, 10)
