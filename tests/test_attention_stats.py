"""Attention statistics on tiny hand-made attentions whose answers can be checked by hand, and random ones."""

import numpy as np
import pytest

from viz import attention_stats as stats


def random_attention(shape, *, causal=False, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.random(shape).astype(np.float32)
    if causal:
        weights = np.tril(weights)
    return weights / weights.sum(-1, keepdims=True)


def previous_token_head(n):
    """Every token looks at the one before it; token 0 looks at itself."""
    weights = np.zeros((n, n), dtype=np.float32)
    weights[0, 0] = 1
    weights[np.arange(1, n), np.arange(n - 1)] = 1
    return weights


def test_entropy_of_uniform_and_one_hot_rows():
    rows = np.array([[0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0], [0.5, 0.5, 0, 0]], dtype=np.float32)
    np.testing.assert_allclose(stats.entropy_bits(rows), [2.0, 0.0, 1.0], atol=1e-6)


def test_head_summary_finds_previous_token_and_cls_heads():
    n = 5
    cls_head = np.zeros((n, n), dtype=np.float32)
    cls_head[:, 0] = 1
    attentions = np.stack([previous_token_head(n), cls_head])[None]  # (1, 2, 5, 5)
    special = np.array([True, False, False, False, True])
    summary = stats.head_summary(attentions, special)
    np.testing.assert_allclose(summary["previous"][0], [1.0, 0.25])  # queries 1..4; the CLS head: only query 1
    np.testing.assert_allclose(summary["special"][0], [0.4, 1.0])  # head 0: queries 0 and 1 look at [CLS]
    np.testing.assert_allclose(summary["first"][0], [0.4, 1.0])  # queries 0 and 1 look at token 0
    np.testing.assert_allclose(summary["self"][0], [0.2, 0.2])
    np.testing.assert_allclose(summary["distance"][0], [4 / 5, (0 + 1 + 2 + 3 + 4) / 5])
    np.testing.assert_allclose(summary["entropy"][0], [0.0, 0.0])


def test_head_summary_table_has_a_row_per_head():
    table = stats.head_summary_table(random_attention((3, 4, 6, 6)), np.zeros(6, dtype=bool))
    assert len(table) == 12
    assert list(table.columns[:3]) == ["layer", "head", "entropy (bits)"]
    assert table[["layer", "head"]].drop_duplicates().shape[0] == 12
    assert (table["on special tokens"] == 0).all()
    assert table["entropy (bits)"].between(0, np.log2(6) + 1e-6).all()


def test_mean_over_heads_rows_sum_to_one():
    mean = stats.mean_over_heads(random_attention((4, 7, 7)))
    assert mean.shape == (7, 7)
    np.testing.assert_allclose(mean.sum(-1), 1, atol=1e-6)


def test_rollout_by_hand():
    everyone_looks_at_first = np.array([[1, 0], [1, 0]], dtype=np.float32)
    attentions = np.stack([everyone_looks_at_first[None]] * 2)  # (L=2, H=1, 2, 2)
    result = stats.rollout(attentions)
    # layer 0: ½A + ½I = [[1, 0], [.5, .5]]; layer 1: that matrix squared = [[1, 0], [.75, .25]]
    np.testing.assert_allclose(result[0], [[1, 0], [0.5, 0.5]])
    np.testing.assert_allclose(result[1], [[1, 0], [0.75, 0.25]])


@pytest.mark.parametrize("causal", [False, True])
def test_rollout_shapes_rows_and_mask(causal):
    result = stats.rollout(random_attention((5, 3, 9, 9), causal=causal))
    assert result.shape == (5, 9, 9)
    np.testing.assert_allclose(result.sum(-1), 1, atol=1e-5)
    if causal:
        assert np.abs(np.triu(result, k=1)).max() == 0


def test_rollout_of_self_attention_is_identity():
    identity = np.broadcast_to(np.eye(4, dtype=np.float32), (3, 2, 4, 4))
    np.testing.assert_allclose(stats.rollout(identity), np.broadcast_to(np.eye(4), (3, 4, 4)))


def test_word_groups_and_labels():
    word_ids = (None, 0, 0, 1, None, 2, 2)
    groups = stats.word_groups(word_ids)
    assert groups == ((0,), (1, 2), (3,), (4,), (5, 6))
    tokens = ["[CLS]", "play", "##ing", "ball", "[SEP]", " par", "is"]
    assert stats.word_labels(tokens, groups) == ["[CLS]", "playing", "ball", "[SEP]", " paris"]
    assert stats.word_groups((0, 1, 0)) == ((0,), (1,), (2,))  # only neighbours merge


def test_word_labels_show_a_split_character_once():
    tokens = ["我", "吃(1/3)", "吃(2/3)", "吃(3/3)"]
    assert stats.word_labels(tokens, ((0,), (1, 2, 3))) == ["我", "吃"]


def test_merge_words_by_hand():
    weights = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.0, 0.5, 0.5]], dtype=np.float32)
    merged = stats.merge_words(weights, ((0,), (1, 2)))
    # keys summed: row 0 -> [.2, .8]; queries averaged: rows 1 and 2 -> mean([.6, .4], [0, 1]) = [.3, .7]
    np.testing.assert_allclose(merged, [[0.2, 0.8], [0.3, 0.7]], atol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_merge_words_rows_sum_to_one_and_keep_the_mask(causal):
    weights = random_attention((2, 3, 8, 8), causal=causal)
    groups = stats.word_groups((None, 0, 0, 1, 2, 2, 2, None))
    merged = stats.merge_words(weights, groups)
    assert merged.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(merged.sum(-1), 1, atol=1e-5)
    if causal:
        assert np.abs(np.triu(merged, k=1)).max() < 1e-7  # a word never attends to a later word


def test_token_attention_by_layer():
    attentions = random_attention((4, 3, 6, 6))
    rows = stats.token_attention_by_layer(attentions, 2)
    assert rows.shape == (4, 6)
    np.testing.assert_allclose(rows, attentions[:, :, 2].mean(1), atol=1e-6)
    np.testing.assert_array_equal(stats.token_attention_by_layer(attentions, 2, head=1), attentions[:, 1, 2])


def test_downsample_block_means():
    weights = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(stats.downsample(weights, 2), [[2.5, 4.5], [10.5, 12.5]])
    assert stats.downsample(weights, 8) is not None and stats.downsample(weights, 8).shape == (4, 4)
    uneven = random_attention((2, 3, 37, 37))
    pooled = stats.thumbnails(uneven, 16)
    assert pooled.shape == (2, 3, 16, 16)
    np.testing.assert_allclose(pooled.mean((-1, -2)), uneven.mean((-1, -2)), rtol=0.05)


TIRED = ["[CLS]", "the", "animal", "didn", "'", "t", "cross", "the", "street", "because", "it", "was", "too",
         "tired", ".", "[SEP]"]


def test_align_one_changed_word():
    narrow = [*TIRED[:13], "narrow", *TIRED[14:]]
    columns = stats.align_tokens(TIRED, narrow)
    changed = [c for c in columns if c.changed]
    assert len(columns) == len(TIRED) and [c.label for c in changed] == ["tired → narrow"]
    assert stats.counterpart(columns, 10) == 10  # "it" is "it" in both
    assert stats.counterpart(columns, 13) is None  # "tired" has no counterpart


def test_align_stretches_of_different_length_keep_total_weight():
    other = [*TIRED[:13], "very", "narrow", *TIRED[14:]]
    columns = stats.align_tokens(TIRED, other)
    assert [c.label for c in columns if c.changed] == ["tired → very narrow"]
    weights_b = random_attention((3, len(other)))
    aligned = stats.aligned_weights(weights_b, columns, "b")
    assert aligned.shape == (3, len(columns))
    np.testing.assert_allclose(aligned.sum(-1), 1, atol=1e-6)
    inserted = stats.align_tokens(["a", "b"], ["a", "x", "b"])
    assert [(c.a, c.b, c.label) for c in inserted if c.changed] == [((), (1,), "∅ → x")]


def test_change_summary_names_the_biggest_gain_and_loss_of_unchanged_words():
    narrow = [*TIRED[:13], "narrow", *TIRED[14:]]
    columns = stats.align_tokens(TIRED, narrow)
    difference = np.zeros(len(columns))
    difference[[2, 8, 13]] = [0.2, -0.1, 0.9]  # "animal" gains, "street" loses; "tired → narrow" changed: left out
    summary = stats.change_summary(difference, columns, 4)
    assert summary == ("Layer 4, from A to B: the biggest gain is +0.200 on 'animal', the biggest loss -0.100 on "
                       "'street' (changed words left out).")
    assert stats.change_summary(np.zeros(1), stats.align_tokens(["a"], ["b"]), 0) == ""


def test_guess_question_offers_the_most_attended_words_in_sentence_order():
    tokens = ["[CLS]", " the", "animal", "it", "was", "[SEP]"]
    special = np.array([True, False, False, False, False, True])
    weights = np.array([0.5, 0.05, 0.3, 0.1, 0.02, 0.03])
    guess = stats.guess_question(tokens, special, weights, 3, 2, causal=False)
    assert guess["question"] == ("Which word does “it” attend to most in layer 2 (leaving out itself and special "
                                 "tokens)?")
    assert guess["options"] == ["␣the", "animal", "was"] and guess["answer"] == "animal"
    causal = stats.guess_question(tokens, special, weights, 3, 2, causal=True)  # "was" comes later: not seen
    assert causal["options"] == ["␣the", "animal"] and causal["answer"] == "animal"
    alone = stats.guess_question(tokens, special, weights, 1, 0, causal=True)  # only [CLS] before " the"
    assert set(alone) == {"question"}


def test_guess_question_offers_at_most_a_few_words():
    tokens = [f"w{i}" for i in range(20)]
    weights = np.linspace(0, 1, 20)
    guess = stats.guess_question(tokens, np.zeros(20, bool), weights, 0, 0, causal=False)
    assert guess["options"] == [f"w{i}" for i in range(20 - stats.GUESS_OPTIONS, 20)] and guess["answer"] == "w19"
