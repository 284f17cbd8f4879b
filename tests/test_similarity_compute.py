"""Pure word-sense computations on synthetic arrays: words, cosine maps, neighbours, costs, toy vectors, CSV sets."""

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from viz import similarity as sim
from viz.analysis import Analysis, ModelInfo
from viz.sense_sets import BUILT_IN, MAX_SENTENCES, SenseSetError, parse_csv

INFO = ModelInfo(key="fake", name="fake", family="bert", kind="encoder", n_layers=2, n_heads=1, n_kv_heads=1,
                 head_dim=4, width=4, vocab_size=100, max_tokens=512)


def fake_analysis(tokens, word_ids, hidden, special=None) -> Analysis:
    """An Analysis with given tokens, word ids and hidden states (3, T, 4)."""
    n = len(tokens)
    attentions = np.full((2, 1, n, n), 1.0 / n, dtype=np.float32)
    special = np.array([w is None for w in word_ids]) if special is None else np.asarray(special)
    return Analysis(model=INFO, text=" ".join(tokens), text_pair=None, tokens=tuple(tokens),
                    token_ids=np.arange(n), word_ids=tuple(word_ids), special=special, attentions=attentions,
                    hidden_states=np.asarray(hidden, dtype=np.float32))


def random_states(n_tokens, seed=0):
    return np.random.default_rng(seed).normal(size=(3, n_tokens, 4)).astype(np.float32)


def test_words_join_pieces_and_skip_special_tokens():
    tokens = ["[CLS]", "the", "dep", "##uty", "party", "[SEP]"]
    assert sim.words(tokens, [None, 0, 1, 1, 2, None]) == [("the", (1,)), ("deputy", (2, 3)), ("party", (4,))]
    bpe = ["dep", "uty", " leader", " party"]
    assert sim.words(bpe, [0, 0, 1, 2]) == [("deputy", (0, 1)), ("leader", (2,)), ("party", (3,))]


def test_find_occurrences_is_whole_word_and_case_insensitive():
    a = fake_analysis(["[CLS]", "Party", "party", "parties", "[SEP]"], [None, 0, 1, 2, None], random_states(5))
    b = fake_analysis(["[CLS]", "bank", "[SEP]"], [None, 0, None], random_states(3))
    found = sim.find_occurrences([a, b], " party ")
    assert [(o.sentence, o.word, o.positions) for o in found] == [(0, "Party", (1,)), (0, "party", (2,))]
    assert sim.sentences_without([a, b], found) == [1]
    assert sim.find_occurrences([a, b], "") == []
    assert list(sim.first_per_sentence(found).values())[0].positions == (1,)


def test_word_vectors_average_pieces_at_every_layer():
    hidden = random_states(4)
    vectors = sim.word_vectors(hidden, (1, 2))
    assert vectors.shape == (3, 4)
    np.testing.assert_allclose(vectors, (hidden[:, 1] + hidden[:, 2]) / 2, rtol=1e-6)


def test_similarity_across_layers_matches_scikit_learn_per_layer():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(7, 16)), rng.normal(size=(7, 16))
    expected = [cosine_similarity(a[i:i + 1], b[i:i + 1])[0, 0] for i in range(7)]
    np.testing.assert_allclose(sim.similarity_across_layers(a, b), expected, atol=1e-12)
    np.testing.assert_allclose(sim.similarity_across_layers(a, a), 1.0)


def test_word_similarity_by_layer_uses_reference_and_first_occurrences():
    hidden = random_states(3, seed=2)
    a = fake_analysis(["x", "party", "y"], [0, 1, 2], hidden)
    same = fake_analysis(["party", "z"], [0, 1], hidden[:, [1, 0]])  # party has a's vectors
    opposite = fake_analysis(["party"], [0], -hidden[:, [1]])
    missing = fake_analysis(["nothing"], [0], hidden[:, [0]])
    analyses = [a, same, opposite, missing]
    result = sim.word_similarity_by_layer(analyses, sim.find_occurrences(analyses, "party"), reference=0)
    assert sorted(result) == [1, 2]
    np.testing.assert_allclose(result[1], 1.0, atol=1e-6)
    np.testing.assert_allclose(result[2], -1.0, atol=1e-6)
    assert sim.word_similarity_by_layer(analyses, sim.find_occurrences(analyses, "party"), reference=3) == {}


def test_token_and_cross_similarity_shapes_and_values():
    ha, hb = random_states(5, 3), random_states(3, 4)
    within = sim.token_similarity(ha, 2)
    assert within.shape == (5, 5)
    np.testing.assert_allclose(np.diag(within), 1.0, atol=1e-6)
    np.testing.assert_allclose(within, cosine_similarity(ha[2]), atol=1e-6)
    cross = sim.cross_similarity(ha, hb, 1)
    assert cross.shape == (5, 3)
    np.testing.assert_allclose(cross, cosine_similarity(ha[1], hb[1]), atol=1e-6)


def test_nearest_tokens_excludes_itself_and_special_tokens_and_sorts():
    hidden = np.zeros((3, 4, 4), dtype=np.float32)
    hidden[:, 0] = [1, 0, 0, 0]  # [CLS], identical to the query
    hidden[:, 1] = [1, 0, 0, 0]  # the query word
    hidden[:, 2] = [1, 1, 0, 0]  # 0.707
    hidden[:, 3] = [0, 1, 0, 0]  # 0
    a = fake_analysis(["[CLS]", "party", "big", "fun"], [None, 0, 1, 2], hidden)
    occurrence = sim.find_occurrences([a], "party")[0]
    rows = sim.nearest_tokens([a], occurrence, 1, k=5)
    assert [r["token"] for r in rows] == ["big", "fun"]
    assert rows[0]["cosine"] == pytest.approx(2 ** -0.5) and rows[0]["rank"] == 1
    with_special = sim.nearest_tokens([a], occurrence, 1, k=1, skip_special=False)
    assert with_special[0]["token"] == "[CLS]" and with_special[0]["cosine"] == pytest.approx(1.0)


def test_seed_toy_vectors_with_scikit_learn():
    matrix = sim.toy_cosine(sim.TOY_VECTORS)
    names = list(sim.TOY_VECTORS)
    assert round(matrix[names.index("cat"), names.index("dog")], 4) == 0.9832
    assert round(matrix[names.index("car"), names.index("banana")], 4) == 0.1511


def test_parse_vector_rows_reports_bad_rows():
    rows = [("cat", 1, 0), ("", 1, 1), ("dog", "x", 1), ("zero", 0, 0), ("nan", 1, 1), ("cat", 2, 2),
            ("inf", float("inf"), 1), ("car", "0.5", 1)]
    vectors, problems = sim.parse_vector_rows(rows)
    assert vectors == {"cat": (1.0, 0.0), "car": (0.5, 1.0)}
    assert len(problems) == 4 and any("not a number" in p for p in problems) and any("zeros" in p for p in problems)


def test_one_hot_cost_for_gpt2_sizes_from_seed():
    cost = sim.one_hot_cost(50_257, 768, 2)
    assert cost["vocab_one_hot_numbers"] == 50_257 ** 2
    assert cost["vocab_dense_numbers"] == 50_257 * 768
    assert cost["vocab_one_hot_bytes"] == 4 * 50_257 ** 2
    assert cost["text_one_hot_numbers"] == 2 * 50_257 and cost["text_dense_numbers"] == 1536
    assert cost["ratio"] == pytest.approx(65.44, abs=0.01)
    assert sim.human_bytes(cost["vocab_one_hot_bytes"]) == "10.1 GB"
    assert sim.human_bytes(999) == "999 B"


def test_nearest_rows_in_chunks_equals_full_search():
    rng = np.random.default_rng(5)
    matrix, query = rng.normal(size=(1000, 8)), rng.normal(size=8)
    chunked = sim.nearest_rows(matrix, query, k=5, chunk=64)
    full = np.argsort(-cosine_similarity(query[None], matrix)[0])[:5]
    assert [i for i, _ in chunked] == full.tolist()
    assert sim.nearest_rows(matrix, matrix[17], k=1)[0] == (17, pytest.approx(1.0))


def test_layer_zero_note_differs_by_family():
    assert "rotary" in sim.layer_zero_note("llama") and "exactly the same" in sim.layer_zero_note("llama")
    assert "position" in sim.layer_zero_note("bert") and "LayerNorm" in sim.layer_zero_note("bert")
    assert sim.layer_zero_note("unknown")


def test_built_in_sense_sets_use_their_word_in_every_sentence():
    for word, sense_set in BUILT_IN.items():
        assert len(sense_set.sentences) >= 6 and len(set(sense_set.labels)) >= 2
        assert len(sense_set.labels) == len(sense_set.sentences)
        assert all(word in sentence.lower().split() for sentence in sense_set.sentences)


def test_csv_with_header_labels_and_empty_rows():
    data = b"sense,sentence\nriver,we sat on the bank\n,\nmoney,the bank raised rates\n"
    parsed = parse_csv(data)
    assert parsed.sentences == ("we sat on the bank", "the bank raised rates")
    assert parsed.labels == ("river", "money")
    assert parsed.notices == ("Skipped 1 empty row(s).",)


def test_csv_without_header_and_missing_label_column():
    parsed = parse_csv(b"one sentence\nanother one\n")
    assert parsed.sentences == ("one sentence", "another one") and parsed.labels == ()
    partial = parse_csv(b"a bank,money\nthe bank\n")
    assert partial.labels == () and any("no sense label" in n for n in partial.notices)


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x00bad bytes", "not UTF-8"),
    (b"", "no sentences"),
    (b"\n\n,\n", "no sentences"),
    (b"sense,label\nmoney,x\n", "no 'sentence' column"),
    (b"x" * 2_000_001, "limit"),
])
def test_csv_bad_input_gives_clear_message(data, message):
    with pytest.raises(SenseSetError, match=message):
        parse_csv(data)


def test_csv_keeps_at_most_the_limit():
    parsed = parse_csv("".join(f"sentence {i}\n" for i in range(MAX_SENTENCES + 5)).encode())
    assert len(parsed.sentences) == MAX_SENTENCES and "first 200" in parsed.notices[0]


def test_csv_utf8_with_bom_and_non_latin_text():
    parsed = parse_csv("\ufeffsentence,sense\n我正在吃饭,eat\n".encode())
    assert parsed.sentences == ("我正在吃饭",) and parsed.labels == ("eat",)
