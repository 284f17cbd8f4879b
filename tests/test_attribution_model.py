"""Captum attribution on the bundled models: completeness where integrated gradients converge, and by-hand checks."""

import numpy as np
import pytest
import torch
from conftest import PARTY, PARTY_POLITICS

from viz.model.attribution import cosine_attribution, next_token_attribution, word_vector


def test_word_sense_cosine_is_split_over_the_tokens_and_adds_up(encoder):
    tokenizer = encoder.tokenizer
    a, b = tokenizer(PARTY)["input_ids"], tokenizer(PARTY_POLITICS)["input_ids"]
    party = tokenizer.convert_tokens_to_ids("party")
    other = word_vector(encoder, b, [b.index(party)])
    result = cosine_attribution(encoder, a, [a.index(party)], other)
    here = word_vector(encoder, a, [a.index(party)])
    cosine = float(here @ other / np.linalg.norm(here) / np.linalg.norm(other))
    assert result.output == pytest.approx(cosine, abs=1e-5)  # the number explained is the page's cosine
    assert result.output == pytest.approx(0.74, abs=0.02)  # examples.md: celebration vs politics, last layer
    # completeness: measured |delta| < 1e-4 with 32 steps on this encoder (LayerNorm after the positions)
    assert abs(result.delta) < 1e-3
    assert result.integrated_gradients.sum() == pytest.approx(result.output - result.baseline_output, abs=1e-3)
    assert result.integrated_gradients.shape == (len(a),)


def test_gradient_times_input_is_the_gradient_dotted_with_each_embedding(decoder):
    ids = decoder.tokenizer("London was")["input_ids"]
    target = int(np.argmax(decoder.model(input_ids=torch.tensor([ids])).logits[0, -1].detach().numpy()))
    result = next_token_attribution(decoder, ids, target, steps=8)
    embeddings = decoder.model.get_input_embeddings()(torch.tensor([ids])).detach().requires_grad_(True)
    logit = decoder.model(inputs_embeds=embeddings, use_cache=False).logits[0, -1, target]
    (gradient,) = torch.autograd.grad(logit, embeddings)
    by_hand = (gradient * embeddings)[0].sum(-1).detach().numpy()
    np.testing.assert_allclose(result.grad_times_input, by_hand, rtol=1e-3, atol=1e-3)
    assert result.output == pytest.approx(float(logit), abs=1e-3)
    assert not any(p.grad is not None for p in decoder.model.parameters())  # the shared model keeps no gradients
