"""The logit lens's embedding and middle-layer rows against a lens computed here by hand: the model called once over
the whole text with output_hidden_states=True, then its own final norm and unembedding applied to one layer's state.

Row 0 is the embeddings, row ℓ the output of layer ℓ (Hugging Face's hidden_states[ℓ]). The last hidden state has
already passed the final norm (Llama's model.norm, GPT-2's transformer.ln_f), so the lens's last row must not apply
it again: it equals the model's own output, and normalising twice would give something else."""

import numpy as np
import pytest
import torch

from viz.model.generation import generate, logit_lens, start

LONG = "Tom is a cat. Tom's favorite food is fish, and every morning he waits by the door until"
WIDTH = 6  # lens columns: the last six positions, the last two of them generated


def final_norm(model):
    return model.model.norm if hasattr(model, "model") else model.transformer.ln_f  # Llama, GPT-2


_RUNS: dict[str, tuple] = {}


def lens_run(loaded) -> tuple:
    """The app's lens over a run with two cached steps, the hidden states (L+1, T, D) and logits (T, V) of one full
    pass over the same ids; computed once per model."""
    if loaded.info.key not in _RUNS:
        ids = loaded.tokenizer(LONG)["input_ids"]
        run = generate(loaded, start(loaded, ids), 2, greedy=True)
        lens = logit_lens(loaded, run, WIDTH)
        with torch.inference_mode():
            out = loaded.model(input_ids=torch.tensor([list(run.ids)]), output_hidden_states=True, use_cache=False)
        _RUNS[loaded.info.key] = (loaded, run, lens, torch.stack(out.hidden_states)[:, 0], out.logits[0])
    return _RUNS[loaded.info.key]


@pytest.fixture(params=["decoder", "tiny_gpt2"])
def lens_and_states(request):
    return lens_run(request.getfixturevalue(request.param))


def by_hand(loaded, states: torch.Tensor, *, norm: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Top token id and its probability at each row of states (W, D): softmax(lm_head(final_norm(h)))."""
    model = loaded.model
    with torch.inference_mode():
        logits = model.lm_head(final_norm(model)(states) if norm else states)
        top = torch.softmax(logits.float(), dim=-1).max(dim=-1)
    return top.indices.numpy(), top.values.numpy()


def rows(loaded) -> list[int]:
    """The rows checked: embeddings, and layers a third and two thirds of the way up (10 and 20 of SmolLM2's 30)."""
    layers = loaded.info.n_layers
    return sorted({0, layers // 3, 2 * layers // 3} - {layers})


def test_lens_row_zero_reads_the_embeddings(lens_and_states):
    loaded, run, lens, states, _ = lens_and_states
    embedded = loaded.model.get_input_embeddings()(torch.tensor(list(run.ids)))
    if not hasattr(loaded.model, "model"):  # GPT-2 adds its learned position embeddings before layer 1
        embedded = embedded + loaded.model.transformer.wpe(torch.arange(len(run.ids)))
    torch.testing.assert_close(states[0], embedded.detach(), atol=1e-5, rtol=1e-5)
    top, probability = by_hand(loaded, states[0, -WIDTH:])
    np.testing.assert_array_equal(lens.top_ids[0], top)
    np.testing.assert_allclose(lens.top_probabilities[0], probability, atol=1e-4)


def test_lens_middle_layers_equal_final_norm_and_unembedding_by_hand(lens_and_states):
    loaded, run, lens, states, _ = lens_and_states
    assert lens.top_ids.shape == (loaded.info.n_layers + 1, WIDTH) == lens.top_probabilities.shape
    assert lens.positions.tolist() == list(range(len(run.ids) - WIDTH, len(run.ids)))
    for layer in rows(loaded)[1:]:
        top, probability = by_hand(loaded, states[layer, -WIDTH:])
        np.testing.assert_array_equal(lens.top_ids[layer], top, err_msg=f"layer {layer}")
        np.testing.assert_allclose(lens.top_probabilities[layer], probability, atol=1e-4, err_msg=f"layer {layer}")


def test_last_hidden_state_is_already_normalised(lens_and_states):
    loaded, _, lens, states, logits = lens_and_states
    with torch.inference_mode():
        direct = loaded.model.lm_head(states[-1, -WIDTH:])
    torch.testing.assert_close(direct, logits[-WIDTH:], atol=1e-3, rtol=1e-3)  # no norm left to apply
    expected = torch.softmax(logits[-WIDTH:].float(), dim=-1).max(dim=-1)
    np.testing.assert_array_equal(lens.top_ids[-1], expected.indices.numpy())
    np.testing.assert_allclose(lens.top_probabilities[-1], expected.values.numpy(), atol=1e-4)


def test_smollm2_lens_would_differ_without_the_norm_or_with_it_twice(decoder):
    """The trained norm's weights are far from 1, so these checks can tell a missing or doubled norm apart (the tiny
    random GPT-2's untrained LayerNorm is nearly idempotent and could not)."""
    loaded, _, lens, states, _ = lens_run(decoder)
    for layer in rows(loaded)[1:]:
        _, probability = by_hand(loaded, states[layer, -WIDTH:], norm=False)
        assert np.abs(lens.top_probabilities[layer] - probability).max() > 0.05, f"layer {layer}"
    twice_top, twice = by_hand(loaded, states[-1, -WIDTH:])
    assert (twice_top != lens.top_ids[-1]).any() and np.abs(twice - lens.top_probabilities[-1]).max() > 0.05


@pytest.mark.parametrize("chunk_bytes", [1, 10**9])
def test_lens_in_chunks_of_layers_equals_one_call(lens_and_states, chunk_bytes, monkeypatch):
    """The lens unembeds a few layers at a time (generation.LENS_CHUNK_BYTES of scores); one layer per call and all
    layers in one call give the same table."""
    from viz.model import generation

    loaded, run, lens, _, _ = lens_and_states
    monkeypatch.setattr(generation, "LENS_CHUNK_BYTES", chunk_bytes)
    other = logit_lens(loaded, run, WIDTH)
    np.testing.assert_array_equal(other.top_ids, lens.top_ids)
    np.testing.assert_allclose(other.top_probabilities, lens.top_probabilities, rtol=0, atol=1e-5)
