"""The Q/K/V steps and position data on real models: BERT (bundled), Llama (bundled), GPT-2 (tiny config)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from conftest import PARTY

from viz import qkv_steps as steps
from viz.model import analyze, attention_qkv
from viz.model.positions import learned_positions, output_projection, position_table_size, project_heads, rotary_info

ARCHITECTURES = ["encoder", "decoder", "tiny_gpt2"]


@pytest.mark.parametrize("fixture", ARCHITECTURES)
def test_step_rows_equal_model_attention(fixture, request):
    loaded = request.getfixturevalue(fixture)
    analysis = analyze(loaded, PARTY, attention_dtype=np.float32)  # the model's weights before float16 storage
    party = analysis.find_token("party")
    n_layers = loaded.info.n_layers
    for layer in sorted({0, n_layers // 2, n_layers - 1}):
        qkv = attention_qkv(loaded, analysis, layer)
        for head in range(loaded.info.n_heads):
            for query in (0, party, analysis.n_tokens - 1):
                step = steps.query_steps(qkv, head=head, query=query)
                difference = steps.max_difference(step.weights, analysis.attentions[layer, head, query])
                assert difference < 1e-4, f"layer {layer} head {head} query {query}: {difference}"
        rows = steps.layer_rows(qkv, query=party)
        assert steps.max_difference(rows, analysis.attentions[layer, :, party]) < 1e-4


def _rest_of_block(loaded, layer: int, residual: torch.Tensor, attention_out: torch.Tensor) -> torch.Tensor:
    """The block after attention: residual, norm and feed-forward, as each family wires it."""
    model, family = loaded.model, loaded.info.family
    if family == "bert":
        block = model.encoder.layer[layer]
        middle = block.attention.output.LayerNorm(attention_out + residual)
        return block.output(block.intermediate(middle), middle)
    if family == "gpt2":
        block = model.transformer.h[layer]
        middle = residual + attention_out
        return middle + block.mlp(block.ln_2(middle))
    block = model.model.layers[layer]
    middle = residual + attention_out
    return middle + block.mlp(block.post_attention_layernorm(middle))


@pytest.mark.parametrize("fixture", ARCHITECTURES)
def test_concatenated_heads_through_output_projection_give_next_layer(fixture, request):
    loaded = request.getfixturevalue(fixture)
    analysis = analyze(loaded, PARTY)
    layer = 0 if loaded.info.n_layers < 4 else 2  # not the last: its output may carry a final norm
    qkv = attention_qkv(loaded, analysis, layer)
    concatenated = np.stack([steps.head_outputs(qkv, query=t).reshape(-1) for t in range(analysis.n_tokens)])
    assert concatenated.shape == (analysis.n_tokens, loaded.info.n_heads * loaded.info.head_dim)
    projected = project_heads(loaded, layer, concatenated)  # (T, D)
    assert projected.shape == (analysis.n_tokens, loaded.info.width)
    with torch.inference_mode():
        following = _rest_of_block(loaded, layer, torch.from_numpy(np.array(analysis.hidden_states[layer])),
                                   torch.from_numpy(projected)).numpy()
    assert np.abs(following - analysis.hidden_states[layer + 1]).max() < 1e-3


def test_output_projection_shapes(encoder, decoder, tiny_gpt2):
    bert = output_projection(encoder, 3)
    assert (bert.in_features, bert.out_features, bert.has_bias) == (384, 384, True)
    assert bert.name == "encoder.layer[3].attention.output.dense" and "LayerNorm" in bert.then
    llama = output_projection(decoder, 7)
    assert (llama.in_features, llama.out_features, llama.has_bias) == (9 * 64, 576, False)
    assert llama.name == "model.layers[7].self_attn.o_proj"
    gpt2 = output_projection(tiny_gpt2, 1)
    assert (gpt2.in_features, gpt2.out_features) == (32, 32) and gpt2.name == "transformer.h[1].attn.c_proj"


def test_learned_positions_are_the_model_tables(encoder, tiny_gpt2, decoder):
    bert = learned_positions(encoder, 40)
    np.testing.assert_array_equal(bert, encoder.model.embeddings.position_embeddings.weight[:40].detach().numpy())
    assert position_table_size(encoder) == 512
    gpt2 = learned_positions(tiny_gpt2, 1000)
    assert gpt2.shape == (64, 32) and position_table_size(tiny_gpt2) == 64  # capped at the table
    np.testing.assert_array_equal(gpt2, tiny_gpt2.model.transformer.wpe.weight.detach().numpy())
    assert learned_positions(decoder, 10) is None and position_table_size(decoder) == 0
    assert rotary_info(encoder) is None and rotary_info(tiny_gpt2) is None


def test_rotary_maths_matches_the_model(decoder):
    rotary = rotary_info(decoder)
    assert rotary.inv_freq.shape == (32,) and rotary.inv_freq[0] == pytest.approx(1.0)
    assert rotary.rope_type == "default" and rotary.attention_scaling == 1.0
    assert rotary.inv_freq[1] == pytest.approx(rotary.base ** (-2 / 64))
    first, second = (analyze(decoder, text) for text in ("Then Tim chased clouds.", "Then clouds chased Tim."))
    a, b = attention_qkv(decoder, first, 0), attention_qkv(decoder, second, 0)
    tim_a, tim_b = first.find_token("tim"), second.find_token("tim")
    assert (tim_a, tim_b) == (1, 3)
    # layer 0 input is the bare token embedding, so un-rotating q must give the same vector in both sentences
    plain_a = steps.unrotate(a.queries[:, tim_a], np.full(9, tim_a), rotary.inv_freq)
    plain_b = steps.unrotate(b.queries[:, tim_b], np.full(9, tim_b), rotary.inv_freq)
    np.testing.assert_allclose(plain_a, plain_b, atol=1e-4)
    assert np.abs(a.queries[:, tim_a] - b.queries[:, tim_b]).max() > 0.1  # rotated, they differ
    # placing the un-rotated pair at their real distance gives the model's own score
    key = 0
    q0 = steps.unrotate(a.queries[4, tim_a][None], np.array([tim_a]), rotary.inv_freq)[0]
    k0 = steps.unrotate(a.keys[4, key][None], np.array([key]), rotary.inv_freq)[0]
    by_distance = steps.rotary_scores_by_distance(q0, k0, rotary.inv_freq, np.arange(8))
    assert by_distance[tim_a - key] == pytest.approx(float(a.queries[4, tim_a] @ a.keys[4, key]), rel=1e-4)


def test_concurrent_layers_and_heads_get_their_own_vectors(decoder):
    analysis = analyze(decoder, PARTY, attention_dtype=np.float32)
    party = analysis.find_token("party")
    jobs = [(3, 4, party), (20, 7, party), (11, 0, 2), (27, 8, party)] * 3

    def work(job):
        layer, head, query = job
        step = steps.query_steps(attention_qkv(decoder, analysis, layer), head=head, query=query)
        return job, step

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, jobs))
    for (layer, head, query), step in results:
        assert (step.head, step.query_index) == (head, query)
        assert steps.max_difference(step.weights, analysis.attentions[layer, head, query]) < 1e-4
    first = {job: step for job, step in results}
    assert not np.allclose(first[(3, 4, party)].query, first[(20, 7, party)].query)
    for job, step in results:  # repeats of one job agree (to float32 rounding: BLAS may split sums differently)
        np.testing.assert_allclose(step.output, first[job].output, rtol=0, atol=1e-6)


def test_cached_qkv_is_keyed_by_text_and_layer(encoder):
    from viz.ui import cached

    first, second = analyze(encoder, PARTY), analyze(encoder, "deputy leader is highly respected in the party")
    jobs = [(first, 1), (second, 1), (first, 4), (second, 4)] * 2

    def work(job):
        analysis, layer = job
        return cached.qkv(analysis, layer)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, jobs))
    for (analysis, layer), qkv in zip(jobs, results, strict=True):
        assert qkv.layer == layer and qkv.queries.shape[1] == analysis.n_tokens
        np.testing.assert_allclose(qkv.queries, attention_qkv(encoder, analysis, layer).queries, rtol=0, atol=1e-5)
        assert not qkv.queries.flags.writeable  # shared between sessions, so read-only
    assert results[0] is results[4]  # computed once, then shared
