"""The Q/K/V step decomposition and position maths on hand-worked and synthetic arrays (no model)."""

import math

import numpy as np
import pytest

from viz import qkv_steps as steps
from viz.analysis import QKV
from viz.compute import attention_from_qkv


def make_qkv(queries, keys, values, *, scale, causal=False, kv_head=None) -> QKV:
    queries, keys, values = (np.asarray(a, dtype=np.float32) for a in (queries, keys, values))
    n_heads, n_tokens = queries.shape[:2]
    mask = np.zeros((n_tokens, n_tokens), dtype=np.float32)
    if causal:
        mask[np.triu_indices(n_tokens, k=1)] = -np.inf
    return QKV(layer=0, queries=queries, keys=keys, values=values, scale=scale, mask=mask, rotary=False,
               kv_head=np.arange(n_heads) if kv_head is None else np.asarray(kv_head))


# Three tokens, one head, d = 2: worked by hand below.
Q = [[[1, 0], [0, 1], [1, 1]]]
K = [[[1, 0], [0, 1], [1, 1]]]
V = [[[1, 0], [0, 2], [3, 3]]]


def test_hand_worked_three_token_example():
    step = steps.query_steps(make_qkv(Q, K, V, scale=1 / math.sqrt(2)), head=0, query=2)
    np.testing.assert_allclose(step.products, [[1, 0], [0, 1], [1, 1]])
    np.testing.assert_allclose(step.raw, [1, 1, 2])
    root = 1 / math.sqrt(2)
    np.testing.assert_allclose(step.scaled, [root, root, 2 * root])
    total = 2 * math.exp(root) + math.exp(2 * root)
    expected = np.array([math.exp(root), math.exp(root), math.exp(2 * root)]) / total
    np.testing.assert_allclose(step.weights, expected)
    assert step.weights[2] == pytest.approx(0.50349, abs=1e-5)  # worked by hand
    np.testing.assert_allclose(step.output, expected[0] * np.array([1, 0]) + expected[1] * np.array([0, 2])
                               + expected[2] * np.array([3, 3]))
    assert step.output == pytest.approx([1.75873, 2.00698], abs=1e-4)
    assert step.head_dim == 2 and step.allowed.all()


def test_causal_mask_hides_later_tokens():
    qkv = make_qkv(Q, K, V, scale=1 / math.sqrt(2), causal=True)
    first = steps.query_steps(qkv, head=0, query=0)
    assert first.weights.tolist() == [1.0, 0.0, 0.0]
    assert np.isneginf(first.masked[1:]).all() and first.allowed.tolist() == [True, False, False]
    np.testing.assert_allclose(first.output, [1, 0])  # only its own value
    second = steps.query_steps(qkv, head=0, query=1)
    assert second.weights[2] == 0.0 and second.weights[:2].sum() == pytest.approx(1.0)
    assert second.raw[2] == pytest.approx(1.0)  # the raw score is still computed, then masked


@pytest.mark.parametrize("causal", [False, True])
def test_every_row_equals_attention_from_qkv(causal):
    rng = np.random.default_rng(0)
    shape = (3, 7, 4)
    qkv = make_qkv(rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape), scale=0.5, causal=causal)
    full = attention_from_qkv(qkv)  # (H, T, T)
    for head in range(3):
        for query in range(7):
            step = steps.query_steps(qkv, head=head, query=query)
            assert steps.max_difference(step.weights, full[head, query]) < 1e-12
            np.testing.assert_allclose(step.output, full[head, query] @ qkv.values[head].astype(np.float64))
        np.testing.assert_allclose(steps.layer_rows(qkv, query=3)[head], full[head, 3])
    outputs = steps.head_outputs(qkv, query=3)
    assert outputs.shape == (3, 4)
    np.testing.assert_allclose(outputs[1], steps.query_steps(qkv, head=1, query=3).output)


def test_kv_head_of_a_grouped_query_head():
    rng = np.random.default_rng(1)
    keys = rng.normal(size=(2, 5, 4))
    qkv = make_qkv(rng.normal(size=(6, 5, 4)), keys[[0, 0, 0, 1, 1, 1]], keys[[0, 0, 0, 1, 1, 1]], scale=0.5,
                   kv_head=[0, 0, 0, 1, 1, 1])
    assert steps.query_steps(qkv, head=4, query=2).kv_head == 1
    assert steps.heads_sharing(qkv.kv_head, 4) == [3, 4, 5]
    assert steps.heads_sharing(qkv.kv_head, 0) == [0, 1, 2]


def test_top_keys_picks_the_largest_in_sentence_order():
    weights = np.array([0.05, 0.4, 0.01, 0.3, 0.02, 0.22])
    assert steps.top_keys(weights, k=2).tolist() == [1, 3]
    assert steps.top_keys(weights, k=3).tolist() == [1, 3, 5]
    assert steps.top_keys(weights, k=2, query=4).tolist() == [1, 3, 4]  # the query is always kept
    assert steps.top_keys(weights, k=2, query=3).tolist() == [1, 3]
    assert steps.top_keys(weights, k=50).tolist() == list(range(6))
    assert steps.top_keys(weights, k=0, query=2).tolist() == [2]
    allowed = np.array([True, False, True, True, True, False])  # masked keys are never picked
    assert steps.top_keys(weights, k=2, allowed=allowed).tolist() == [0, 3]
    first_of_three = np.array([True, False, False])
    assert steps.top_keys(np.array([1.0, 0.0, 0.0]), k=10, query=0, allowed=first_of_three).tolist() == [0]


def test_max_difference():
    assert steps.max_difference(np.array([0.1, 0.9]), np.array([0.1, 0.8])) == pytest.approx(0.1)


def test_sinusoid_values_at_known_positions():
    table = steps.sinusoidal_table(100, 8)
    assert table.shape == (100, 8)
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1, 0, 1], atol=1e-12)
    assert table[1, 0] == pytest.approx(math.sin(1)) and table[1, 1] == pytest.approx(math.cos(1))
    assert table[37, 1] == pytest.approx(math.cos(37))
    assert table[5, 2] == pytest.approx(math.sin(5 / 10000 ** (2 / 8)))
    assert table[5, 7] == pytest.approx(math.cos(5 / 10000 ** (6 / 8)))
    assert np.abs(table).max() <= 1.0
    assert len({tuple(np.round(row, 6)) for row in table}) == 100  # every position has its own pattern
    assert steps.sinusoidal_table(3, 5).shape == (3, 5)  # odd width


def test_rotation_keeps_lengths_and_undoes():
    rng = np.random.default_rng(2)
    vectors, positions = rng.normal(size=(6, 8)), np.arange(6) * 7
    inv_freq = 1.0 / 10000 ** (np.arange(0, 8, 2) / 8)
    turned = steps.rotate(vectors, positions, inv_freq)
    np.testing.assert_allclose(np.linalg.norm(turned, axis=1), np.linalg.norm(vectors, axis=1))
    np.testing.assert_allclose(steps.unrotate(turned, positions, inv_freq), vectors, atol=1e-12)
    np.testing.assert_allclose(steps.rotate(vectors, np.zeros(6), inv_freq), vectors)
    scaled = steps.rotate(vectors, positions, inv_freq, scaling=1.5)
    np.testing.assert_allclose(steps.unrotate(scaled, positions, inv_freq, scaling=1.5), vectors, atol=1e-12)


def test_rotary_score_depends_only_on_distance():
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=8), rng.normal(size=8)
    inv_freq = 1.0 / 100 ** (np.arange(0, 8, 2) / 8)

    def score(query_at, key_at):
        return steps.rotate(q[None], np.array([query_at]), inv_freq)[0] @ steps.rotate(k[None], np.array([key_at]),
                                                                                         inv_freq)[0]

    assert score(9, 4) == pytest.approx(score(105, 100))
    by_distance = steps.rotary_scores_by_distance(q, k, inv_freq, np.arange(20))
    assert by_distance[5] == pytest.approx(score(9, 4)) and by_distance[0] == pytest.approx(q @ k)
    assert score(9, 4) != pytest.approx(score(4, 9))


def test_rotary_agreement_falls_with_distance():
    inv_freq = 1.0 / 10000 ** (np.arange(0, 64, 2) / 64)
    agreement = steps.rotary_agreement(inv_freq, np.arange(512))
    assert agreement[0] == pytest.approx(1.0)
    assert agreement[1] < 1.0 and agreement[100:].max() < 0.6


def test_rotary_curve_meets_the_real_score_at_the_real_distance():
    rng = np.random.default_rng(4)
    inv_freq = 1.0 / 100 ** (np.arange(0, 8, 2) / 8)
    plain_q, plain_k = rng.normal(size=(1, 6, 8)), rng.normal(size=(1, 6, 8))
    positions = np.arange(6)
    queries = steps.rotate(plain_q[0], positions, inv_freq)[None]
    keys = steps.rotate(plain_k[0], positions, inv_freq)[None]
    qkv = make_qkv(queries, keys, rng.normal(size=(1, 6, 8)), scale=0.5, causal=True)
    step = steps.query_steps(qkv, head=0, query=5)
    curve = steps.rotary_curve(step, inv_freq, n_distances=64)
    others = step.weights.copy()
    others[5] = -1
    assert curve.key_index == int(np.argmax(others)) and curve.distance == 5 - curve.key_index
    assert curve.scores.shape == (64,)
    assert curve.scores[curve.distance] == pytest.approx(step.raw[curve.key_index], rel=1e-5)
    lonely = steps.rotary_curve(steps.query_steps(qkv, head=0, query=0), inv_freq, n_distances=4)
    assert (lonely.key_index, lonely.distance) == (0, 0)


def test_word_pair_scores_with_and_without_rotation():
    inv_freq = 1.0 / 100 ** (np.arange(0, 4, 2) / 4)
    plain = np.array([[1.0, 0.5, -0.2, 0.3], [0.4, -1.0, 0.8, 0.1], [0.3, 0.2, 0.1, -0.6]])
    rotated = steps.rotate(plain, np.arange(3), inv_freq)
    qkv = make_qkv(rotated[None], rotated[None], rotated[None], scale=0.5)
    scores = steps.word_pair_scores(qkv, head=0, query=2, key=0, inv_freq=inv_freq)
    assert scores["q·k"] == pytest.approx(rotated[2] @ rotated[0], rel=1e-6)
    assert scores["q·k without rotary"] == pytest.approx(plain[2] @ plain[0], rel=1e-5)
    assert list(steps.word_pair_scores(qkv, head=0, query=2, key=0)) == ["q·k"]


def test_top_key_question_offers_the_shown_keys_and_marks_the_largest():
    step = steps.query_steps(make_qkv(Q, K, V, scale=1 / math.sqrt(2)), head=0, query=2)
    tokens, labels = ["a", " b`", "c"], ["0: a", "1: ␣b`", "2: c"]
    asked = steps.top_key_question(step, layer=3, tokens=tokens, labels=labels, shown=np.array([0, 1, 2]))
    assert asked["question"] == ("In layer 3, head 0, which token will the query `c` give the largest weight? "
                                 "Look at q and the keys above.")
    assert asked["key"] == "qkv_reveal"
    assert asked["options"] == labels and asked["answer"] == "2: c"  # q(c)·k(c) = 2 is the largest score
    few = steps.top_key_question(step, layer=3, tokens=tokens, labels=labels, shown=np.array([2, 0]))
    assert few["options"] == ["2: c", "0: a"]
    ticked = steps.top_key_question(steps.query_steps(make_qkv(Q, K, V, scale=1.0), head=0, query=1), layer=0,
                                    tokens=tokens, labels=labels, shown=np.arange(3))
    assert "query `␣bˋ` give" in ticked["question"]  # shown as code, its backtick replaced


def test_top_key_question_without_options_on_many_keys():
    rng = np.random.default_rng(5)
    n = steps.MAX_QUESTION_OPTIONS + 1
    qkv = make_qkv(rng.normal(size=(1, n, 4)), rng.normal(size=(1, n, 4)), rng.normal(size=(1, n, 4)), scale=0.5)
    labels = [f"{i}: t{i}" for i in range(n)]
    asked = steps.top_key_question(steps.query_steps(qkv, head=0, query=0), layer=0, tokens=[f"t{i}" for i in range(n)],
                                   labels=labels, shown=np.arange(n))
    assert asked["options"] == [] and asked["answer"] is None


def test_word_order_row_columns_and_weights_both_ways():
    weights = np.array([[1.0, 0.0, 0.0], [0.6, 0.4, 0.0], [0.1, 0.7, 0.2]])  # (T, T), row = query
    row = steps.word_order_row("Then Tim chased.", tim=1, clouds=2, layer=4, head=5, weights=weights,
                               scores={"q·k": 1.5, "q·k without rotary": 0.25})
    assert row == {"sentence": "Then Tim chased.", "Tim at": 1, "clouds at": 2,
                   "layer 0 q(Tim)·k(clouds)": 1.5, "… without rotary": 0.25,
                   "weight Tim → clouds (layer 4, head 5)": 0.0, "weight clouds → Tim (layer 4, head 5)": 0.7}
    plain = steps.word_order_row("x", tim=2, clouds=0, layer=0, head=0, weights=weights, scores={"q·k": -1.0})
    assert list(plain)[3] == "layer 0 q(Tim)·k(clouds)" and "… without rotary" not in plain
    assert plain["weight Tim → clouds (layer 0, head 0)"] == pytest.approx(0.1)
