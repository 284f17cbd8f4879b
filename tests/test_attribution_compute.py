"""Attribution checked by hand: rank correlation, the signed strip, and Captum on tiny linear models where integrated
gradients and gradient × input have closed forms (the same functions the app calls, a hand-made model)."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from viz.attribution import attention_agreement, ranks, spearman, strongest, symmetric_limit
from viz.figures.attribution import attribution_strip
from viz.model.attribution import cosine_pair_attribution, next_token_attribution
from viz.model.loading import LoadedModel


def test_ranks_average_ties_and_spearman_matches_the_formula():
    np.testing.assert_array_equal(ranks(np.array([10.0, 30.0, 20.0, 20.0])), [1.0, 4.0, 2.5, 2.5])
    # no ties: rho = 1 − 6 Σd² / (n (n² − 1)); ranks (1,2,3,4,5) vs (2,1,4,3,5): Σd² = 4, rho = 1 − 24/120 = 0.8
    assert spearman(np.array([1, 2, 3, 4, 5]), np.array([20, 10, 40, 30, 50])) == pytest.approx(0.8)
    assert spearman(np.array([1, 2, 3]), np.array([3, 2, 1])) == pytest.approx(-1.0)
    assert spearman(np.array([1, 2, 3]), np.array([5, 5, 5])) is None  # a constant has no order
    assert spearman(np.array([1, 2]), np.array([1, 2])) is None  # two points always line up
    with pytest.raises(ValueError):
        spearman(np.zeros(3), np.zeros(4))


def test_attention_is_compared_with_the_size_of_the_attribution_over_the_compared_tokens():
    attention = np.array([0.9, 0.05, 0.03, 0.02])  # the first token: the sink, left out
    attribution = np.array([0.0, -3.0, 2.0, 1.0])  # sizes 3 > 2 > 1 follow the attention order
    assert attention_agreement(attention, attribution, np.array([False, True, True, True])) == pytest.approx(1.0)
    assert strongest(["a", "b", "c", "d"], attribution, count=2) == ["c", "d"]
    assert strongest(["a", "b", "c", "d"], attribution, sign=-1) == ["b"]
    assert symmetric_limit(attribution, np.array([0.5])) == 3.0


def test_strip_is_signed_and_symmetric():
    figure = attribution_strip(labels=["<script>", "b", "c"], values=np.array([-2.0, 0.0, 1.0]), value_name="ig",
                               title="t", limit=2.0)
    trace = figure.data[0]
    assert (trace.zmin, trace.zmax, trace.zmid) == (-2.0, 2.0, 0)
    assert trace.colorscale[0][1] != trace.colorscale[-1][1] and trace.reversescale  # red for +, blue for −
    np.testing.assert_array_equal(np.asarray(trace.z, dtype=float)[0, :3], [-2.0, 0.0, 1.0])
    assert trace.text[0][0] == "&lt;script&gt;"  # escaped: plotly reads a little HTML, so this shows as written


class LinearLogits(torch.nn.Module):
    """logits after the last token = (sum over tokens of the embeddings) @ readout (D, V): a linear function of the
    embeddings, so IG_t = (x_t − baseline_t) · w and gradient × input_t = x_t · w exactly (w = readout[:, target])."""

    def __init__(self, vocab: int, width: int = 4):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.embed = torch.nn.Embedding(vocab, width)
        self.embed.weight.data = torch.randn(vocab, width, generator=generator)
        self.readout = torch.randn(width, vocab, generator=generator)
        self.requires_grad_(False)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, inputs_embeds, use_cache=False, logits_to_keep=1):  # (B, T, D) -> logits (B, 1, V)
        return SimpleNamespace(logits=inputs_embeds.sum(1, keepdim=True) @ self.readout)


class MeanMixer(torch.nn.Module):
    """An 'encoder' whose last layer is h_t = x_t + mean over tokens of x: every token moves every vector."""

    def __init__(self, vocab: int, width: int = 4):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.embed.weight.data = torch.randn(vocab, width, generator=torch.Generator().manual_seed(1))
        self.requires_grad_(False)

    def get_input_embeddings(self):
        return self.embed

    def forward(self, inputs_embeds, attention_mask=None):
        return SimpleNamespace(last_hidden_state=inputs_embeds + inputs_embeds.mean(1, keepdim=True))


def test_integrated_gradients_of_a_linear_logit_is_the_change_times_the_weights(decoder):
    """By hand: x_t·w and (x_t − pad)·w, the first token kept (share 0); Captum's delta ~1e-6 at 8 steps."""
    tiny = LoadedModel(decoder.spec, LinearLogits(decoder.info.vocab_size), decoder.tokenizer, decoder.info)
    ids, target = [21253, 436, 253, 1345], 7
    result = next_token_attribution(tiny, ids, target, steps=8)
    x = tiny.model.embed.weight[ids]  # (T, D)
    pad = tiny.model.embed.weight[decoder.tokenizer.pad_token_id]
    w = tiny.model.readout[:, target]
    np.testing.assert_allclose(result.grad_times_input, (x @ w).numpy(), rtol=1e-5, atol=1e-5)
    expected = ((x - pad) @ w).numpy()
    expected[0] = 0.0  # the decoder's first token is kept in the baseline
    np.testing.assert_allclose(result.integrated_gradients, expected, rtol=1e-4, atol=1e-5)
    assert result.output == pytest.approx(float(x.sum(0) @ w), abs=1e-4)
    assert result.baseline_output == pytest.approx(float((x[0] + 3 * pad) @ w), abs=1e-4)
    assert abs(result.delta) < 1e-4 and list(result.kept) == [True, False, False, False]


def test_word_pair_shares_add_up_and_leave_the_kept_tokens_out(encoder):
    """A smooth non-linear cosine: measured |delta| 2e-7 at 32 steps; the word and [CLS]/[SEP] get share 0."""
    info = replace(encoder.info, key="tiny:mean-mixer")
    tiny = LoadedModel(encoder.spec, MeanMixer(encoder.info.vocab_size), encoder.tokenizer, info)
    a = encoder.tokenizer("a big party")["input_ids"]
    b = encoder.tokenizer("the party leader spoke")["input_ids"]
    first, second = cosine_pair_attribution(tiny, a, [3], b, [2], steps=32)
    hidden_a = tiny.model(tiny.model.embed(torch.tensor([a]))).last_hidden_state[0, 3]
    hidden_b = tiny.model(tiny.model.embed(torch.tensor([b]))).last_hidden_state[0, 2]
    assert first.output == pytest.approx(float(torch.cosine_similarity(hidden_a, hidden_b, dim=0)), abs=1e-5)
    total = first.integrated_gradients.sum() + second.integrated_gradients.sum()
    assert total == pytest.approx(first.output - first.baseline_output, abs=1e-4)
    assert abs(first.delta) < 1e-4 and first.delta == second.delta
    assert first.integrated_gradients[[0, 3, 4]].tolist() == [0.0, 0.0, 0.0]  # [CLS], party, [SEP]
    assert second.kept.tolist() == [True, False, True, False, False, True]
