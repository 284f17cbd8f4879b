"""Next-token model access against the model called directly: bars, greedy generation, seeded sampling, the key/value
cache, undo, the logit lens, token labels and masked-LM fill-in. Bundled decoder plus tiny random models."""

import numpy as np
import pytest
import torch
from conftest import TINY_DIR

from viz.compute import softmax
from viz.model import analyze, load_model, resolve_model
from viz.model.fill_mask import fill_mask_logits, masked_lm
from viz.model.generation import (
    LENS_POSITIONS,
    full_rerun_logits,
    generate,
    logit_lens,
    own_copy,
    prediction_at,
    start,
    start_token_id,
    undo,
)
from viz.model.registry import minilm_folder
from viz.model.token_text import candidate_labels, split_text, token_labels
from viz.sampling import distribution, settled_layer

DOG = "The dog looked at the boy and"
LONG = "Tom is a cat. Tom's favorite food is fish, and every morning he waits by the door until"


def ids_of(loaded, text):
    return loaded.tokenizer(text)["input_ids"]


def model_logits(loaded, ids) -> np.ndarray:
    """Logits (T, V) from calling the Hugging Face model directly."""
    with torch.inference_mode():
        return loaded.model(input_ids=torch.tensor([ids])).logits[0].float().numpy()


@pytest.mark.parametrize("fixture", ["decoder", "tiny_gpt2"])
def test_bars_at_temperature_one_equal_softmax_of_model_logits(fixture, request):
    loaded = request.getfixturevalue(fixture)
    ids = ids_of(loaded, LONG)
    dist = distribution(start(loaded, ids).prediction.logits, temperature=1.0)
    direct = softmax(model_logits(loaded, ids)[-1])
    top = dist.ranked(10)
    np.testing.assert_array_equal(top, np.argsort(-direct)[:10])
    np.testing.assert_allclose(dist.probabilities[top], direct[top], atol=1e-5)


@pytest.mark.parametrize("fixture, text", [("decoder", DOG), ("tiny_gpt2", DOG)])
def test_greedy_steps_equal_generate(fixture, text, request):
    loaded = request.getfixturevalue(fixture)
    ids = ids_of(loaded, text)
    run = generate(loaded, start(loaded, ids), 8, greedy=True)
    with torch.inference_mode():
        expected = loaded.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                         do_sample=False, max_new_tokens=8, pad_token_id=0)[0, len(ids):].tolist()
    assert list(run.generated) == expected
    assert run.cache.get_seq_length() == len(ids) + 8 and run.valid


def test_seeded_sampling_is_reproducible(decoder):
    ids = ids_of(decoder, "London was")
    first = generate(decoder, start(decoder, ids), 6, greedy=False, seed=3, temperature=1.5)
    second = generate(decoder, start(decoder, ids), 6, greedy=False, seed=3, temperature=1.5)
    assert first.generated == second.generated
    # undoing two steps and sampling them again with the same seed gives the same tokens
    again = generate(decoder, undo(decoder, undo(decoder, first)), 2, greedy=False, seed=3, temperature=1.5)
    assert again.generated == first.generated


def test_cached_steps_and_undo_match_a_full_rerun(decoder):
    ids = ids_of(decoder, LONG)
    assert len(ids) > LENS_POSITIONS  # the prompt is read in two parts
    run = generate(decoder, start(decoder, ids), 3, greedy=True)
    np.testing.assert_allclose(run.prediction.logits, full_rerun_logits(decoder, run.ids), atol=2e-3)
    back = undo(decoder, run)
    assert back.ids == run.ids[:-1] and len(back.steps) == 2 and back.valid
    assert back.hidden.shape == (31, LENS_POSITIONS, 576)
    np.testing.assert_allclose(back.prediction.logits, full_rerun_logits(decoder, back.ids), atol=2e-3)
    earlier = prediction_at(decoder, back, len(ids))
    np.testing.assert_allclose(earlier.logits, full_rerun_logits(decoder, ids), atol=2e-3)
    assert back.valid  # looking back did not touch the run's own cache
    assert undo(decoder, start(decoder, ids)).ids == tuple(ids)  # nothing to undo


def test_runs_copied_from_one_read_prompt_grow_apart(decoder):
    """The page reads a prompt once for every session and hands each its own copy: steps on one copy leave the read
    prompt and the other copy as they were, and each copy's steps equal a run of its own."""
    ids = ids_of(decoder, LONG)
    read = start(decoder, ids)
    kv_bytes = 2 * 30 * 3 * len(ids) * 64 * 4  # keys and values: 30 layers x 3 key/value heads x 64 numbers, float32
    assert read.nbytes >= kv_bytes + read.hidden.nbytes + read.prediction.logits.nbytes
    greedy = generate(decoder, own_copy(read), 3, greedy=True)
    sampled = generate(decoder, own_copy(read), 3, greedy=False, seed=5, temperature=1.5)
    assert read.valid and read.cache.get_seq_length() == len(ids)
    assert greedy.ids == generate(decoder, start(decoder, ids), 3, greedy=True).ids
    np.testing.assert_allclose(sampled.prediction.logits, full_rerun_logits(decoder, sampled.ids), atol=2e-3)
    assert greedy.valid and sampled.valid


def test_attention_of_newest_position_equals_analysis(decoder):
    analysis = analyze(decoder, LONG, attention_dtype=np.float32)
    run = start(decoder, analysis.token_ids.tolist())
    assert run.prediction.attention.shape == (30, 9, analysis.n_tokens)
    np.testing.assert_allclose(run.prediction.attention, analysis.attentions[:, :, -1, :], atol=1e-4)


@pytest.mark.parametrize("fixture", ["decoder", "tiny_gpt2"])
def test_logit_lens_last_layer_equals_model_output(fixture, request):
    loaded = request.getfixturevalue(fixture)
    ids = ids_of(loaded, LONG)
    run = generate(loaded, start(loaded, ids), 2, greedy=True)
    lens = logit_lens(loaded, run)
    width = min(LENS_POSITIONS, len(run.ids))
    assert lens.top_ids.shape == (loaded.info.n_layers + 1, width)
    assert lens.positions.tolist() == list(range(len(run.ids) - width, len(run.ids)))
    direct = softmax(model_logits(loaded, list(run.ids))[-width:])  # (W, V)
    np.testing.assert_array_equal(lens.top_ids[-1], direct.argmax(-1))
    np.testing.assert_allclose(lens.top_probabilities[-1], direct.max(-1), atol=1e-4)


def test_logit_lens_london_settles_on_a(decoder):
    run = start(decoder, ids_of(decoder, "London was"))
    lens = logit_lens(decoder, run)
    final = [decoder.tokenizer.decode([i]) for i in lens.top_ids[:, -1]]
    assert final[-1] == " a" and final[0] != " a"
    assert 1 <= settled_layer(lens.top_ids, 1) < decoder.info.n_layers


@pytest.mark.parametrize("text, expected", [
    ("London was", [(" a", 0.12), (" the", 0.06)]),
    ("The animal didn't cross the street because it was too", [(" far", 0.60), (" close", 0.17)]),
])
def test_measured_facts_from_examples(decoder, text, expected):
    dist = distribution(start(decoder, ids_of(decoder, text)).prediction.logits)
    top = dist.ranked(len(expected))
    labels = candidate_labels(decoder.tokenizer, (), top.tolist())
    assert labels == [token for token, _ in expected]
    np.testing.assert_allclose(dist.probabilities[top], [p for _, p in expected], atol=0.02)


def test_empty_prompt_starts_from_the_start_token(decoder):
    token = start_token_id(decoder.tokenizer)
    assert token == decoder.tokenizer.bos_token_id
    run = start(decoder, [token])
    assert run.prediction.attention.shape == (30, 9, 1) and run.hidden.shape == (31, 1, 576)
    with pytest.raises(ValueError):
        start(decoder, [])


def test_token_labels_show_characters_not_replacement(decoder):
    ids = ids_of(decoder, "我正在吃饭")
    labels = token_labels(decoder.tokenizer, ids)
    assert "\ufffd" not in "".join(labels)
    assert labels[:2] == ["我(1/2)", "我(2/2)"] and "在" in labels
    # the second half of 吃, offered as a candidate after the first half, shows the whole character
    first_half = labels.index("吃(1/2)")
    assert candidate_labels(decoder.tokenizer, ids[:first_half + 1], [ids[first_half + 1]]) == ["吃(2/2)"]


def test_split_text_notes_words_of_several_tokens(decoder):
    lower = split_text(decoder.tokenizer, "paris will")
    assert lower.labels == ("par", "is", " will") and lower.split_words == (("paris", ("par", "is")),)
    upper = split_text(decoder.tokenizer, "Paris will")
    assert len(upper.ids) == 2 and upper.split_words == ()
    cut = split_text(decoder.tokenizer, ("word " * 30).strip(), max_tokens=10)
    assert len(cut.ids) == 10 and cut.dropped == 20


@pytest.fixture(scope="module")
def tiny_bert_mlm():
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    folder = TINY_DIR / "tiny-bert-mlm"
    if not (folder / "model.safetensors").exists():
        torch.manual_seed(0)
        config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
        BertForMaskedLM(config).save_pretrained(folder)
        AutoTokenizer.from_pretrained(minilm_folder()).save_pretrained(folder)
    return load_model(resolve_model(str(folder)))


def test_fill_mask_uses_the_checkpoint_head(tiny_bert_mlm, encoder, decoder):
    mlm = masked_lm(tiny_bert_mlm)
    assert mlm is not None and masked_lm(tiny_bert_mlm) is mlm  # loaded once
    ids = tiny_bert_mlm.tokenizer("paris is the capital of france")["input_ids"]
    logits = fill_mask_logits(mlm, ids, 4, tiny_bert_mlm.tokenizer.mask_token_id)
    masked = list(ids)
    masked[4] = tiny_bert_mlm.tokenizer.mask_token_id
    with torch.inference_mode():
        direct = mlm(input_ids=torch.tensor([masked])).logits[0, 4].numpy()
    np.testing.assert_allclose(logits, direct, atol=1e-5)
    assert masked_lm(encoder) is None  # the bundled MiniLM has no masked-LM head
    assert masked_lm(decoder) is None


def test_generation_stops_at_the_token_limit(tiny_gpt2):
    limit = tiny_gpt2.info.max_tokens  # 64 positions in the tiny config
    ids = ids_of(tiny_gpt2, " ".join(["word"] * (limit - 3)))
    calls = []
    run = generate(tiny_gpt2, start(tiny_gpt2, ids), 10, greedy=False, seed=1,
                   on_step=lambda generation, done: calls.append((len(generation.ids), done)))
    assert len(run.ids) == limit and len(run.steps) == limit - len(ids)
    assert calls == [(len(ids) + n, n) for n in range(1, limit - len(ids) + 1)]
    assert generate(tiny_gpt2, run, 5, greedy=True) is run  # nothing more fits


def test_first_position_can_be_revisited(decoder):
    run = generate(decoder, start(decoder, [start_token_id(decoder.tokenizer)]), 2, greedy=True)
    first = prediction_at(decoder, run, 1)
    assert first.attention.shape == (30, 9, 1)
    np.testing.assert_allclose(first.logits, full_rerun_logits(decoder, run.ids[:1]), atol=2e-3)
    assert run.steps[0].method == "argmax" and 0 < run.steps[0].probability <= 1
