"""Word-sense facts measured on the bundled models (../shared/examples.md), and the embedding access functions."""

import numpy as np
import pytest
from conftest import PARTY, PARTY_POLITICS

from viz import similarity as sim
from viz.model import analyze
from viz.model.embeddings import (
    input_embedding_matrix,
    input_embedding_rows,
    sentence_states,
    typed_word,
    vocabulary_entries,
)
from viz.projection import collect_word_states, separation_by_layer
from viz.sense_sets import BUILT_IN
from viz.ui.widgets import SAME_SENSE_SENTENCE

CELEBRATION_VS_POLITICS = [1.0, 0.90, 0.86, 0.81, 0.81, 0.83, 0.74]
CELEBRATION_VS_BIRTHDAY = [1.0, 0.96, 0.93, 0.90, 0.88, 0.90, 0.83]


@pytest.fixture(scope="module")
def party_analyses(encoder):
    return [analyze(encoder, text) for text in (PARTY, PARTY_POLITICS, SAME_SENSE_SENTENCE)]


def test_party_cosine_by_layer_matches_measured_values(party_analyses):
    occurrences = sim.find_occurrences(party_analyses, "party")
    assert [o.sentence for o in occurrences] == [0, 1, 2]
    by_layer = sim.word_similarity_by_layer(party_analyses, occurrences, reference=0)
    np.testing.assert_allclose(by_layer[1], CELEBRATION_VS_POLITICS, atol=0.02)
    np.testing.assert_allclose(by_layer[2], CELEBRATION_VS_BIRTHDAY, atol=0.02)
    assert by_layer[1][0] == pytest.approx(1.0, abs=1e-6)  # layer 0: same token, same position 8, same segment
    assert by_layer[2][-1] > by_layer[1][-1] + 0.05  # same sense stays closer at the last layer


def test_layer_zero_is_embedding_output_with_positions_for_bert(encoder):
    analysis = analyze(encoder, PARTY)
    rows = input_embedding_rows(encoder, analysis.token_ids)
    assert not np.allclose(analysis.hidden_states[0], rows, atol=1e-3)  # positions and LayerNorm are added
    moved = analyze(encoder, "party time for the party")  # the same token at positions 1 and 5
    first, second = sim.find_occurrences([moved], "party")
    layer0 = sim.similarity_across_layers(sim.word_vectors(moved.hidden_states, first.positions),
                                          sim.word_vectors(moved.hidden_states, second.positions))[0]
    assert 0.5 < layer0 < 0.999


def test_layer_zero_is_the_embedding_row_for_the_decoder(decoder):
    analysis = analyze(decoder, "party time for the party")
    rows = input_embedding_rows(decoder, analysis.token_ids)
    np.testing.assert_allclose(analysis.hidden_states[0], rows, atol=1e-6)


def test_decoder_party_keeps_same_sense_closer_at_the_end(decoder):
    analyses = [analyze(decoder, text) for text in (PARTY, PARTY_POLITICS, SAME_SENSE_SENTENCE)]
    by_layer = sim.word_similarity_by_layer(analyses, sim.find_occurrences(analyses, "party"), reference=0)
    assert by_layer[1][0] == pytest.approx(1.0, abs=1e-6) and by_layer[2][0] == pytest.approx(1.0, abs=1e-6)
    assert by_layer[2][-1] > by_layer[1][-1]


def test_encoder_ids_and_vocabulary_entries(encoder):
    analysis = analyze(encoder, PARTY)
    assert analysis.token_ids.tolist() == [101, 2493, 8439, 1996, 7665, 2007, 1037, 2502, 2283, 102]
    assert vocabulary_entries(encoder, [2283, 101]) == ["party", "[CLS]"]


def test_decoder_splits_paris_and_typed_word_pieces(decoder):
    analysis = analyze(decoder, "paris")
    assert analysis.tokens == ("par", "is")
    assert sim.words(analysis.tokens, analysis.word_ids) == [("paris", (0, 1))]
    party = typed_word(decoder, "party")
    assert party.pieces == (" party",) and vocabulary_entries(decoder, party.ids) == ["Ġparty"]
    paris = typed_word(decoder, "paris")
    assert paris.pieces == (" par", "is")  # mid-sentence, like GPT-2's "par" + "is"
    np.testing.assert_allclose(paris.vector, input_embedding_rows(decoder, paris.ids).mean(axis=0), rtol=1e-5)
    assert typed_word(decoder, "   ") is None
    chinese = typed_word(decoder, "我正在吃饭")
    assert "".join(chinese.pieces).startswith(" 我(1/")  # bytes of one character are named by that character


def test_typed_word_in_encoder_and_embedding_matrix(encoder):
    word = typed_word(encoder, "Party")
    assert word.ids == (2283,) and word.pieces == ("party",)
    assert typed_word(encoder, "bertviz").pieces == ("bert", "##vi", "##z")
    matrix = input_embedding_matrix(encoder)
    assert matrix.shape == (encoder.info.vocab_size, encoder.info.width) and not matrix.flags.writeable
    neighbours = sim.nearest_rows(matrix, word.vector, k=3)
    assert neighbours[0] == (2283, pytest.approx(1.0))
    cat, dog, banana = (typed_word(encoder, w).vector for w in ("cat", "dog", "banana"))
    assert sim.toy_cosine({"cat": cat, "dog": dog})[0, 1] > sim.toy_cosine({"cat": cat, "banana": banana})[0, 1]


@pytest.mark.parametrize("fixture", ["encoder", "decoder"])
def test_batched_states_equal_one_pass_per_sentence(fixture, request):
    loaded = request.getfixturevalue(fixture)
    sentences = [PARTY, "", PARTY_POLITICS, "we danced"]
    results = list(sentence_states(loaded, sentences, batch_size=2))
    assert [r.text for r in results] == [PARTY, PARTY_POLITICS, "we danced"]  # the empty one is skipped
    for result in results:
        single = analyze(loaded, result.text)
        assert result.tokens == single.tokens and result.word_ids == single.word_ids
        np.testing.assert_allclose(result.hidden_states, single.hidden_states, atol=2e-3, rtol=1e-3)


def test_batched_states_cut_long_sentences(encoder):
    (result,) = sentence_states(encoder, ["word " * 100], max_tokens=16)
    assert result.hidden_states.shape[1] == 16 and result.dropped_tokens == 102 - 16


def test_party_sense_set_separates_after_layer_zero(encoder):
    sense_set = BUILT_IN["party"]
    states = collect_word_states(sentence_states(encoder, sense_set.sentences), "party")
    assert states.missing == () and states.states.shape == (7, 10, 384)
    scores = separation_by_layer(states.states, [sense_set.labels[i] for i in states.sentence])
    assert scores["silhouette"][1:].max() > scores["silhouette"][0] + 0.2
    assert scores["nearest-centroid accuracy"][-1] >= 0.9
