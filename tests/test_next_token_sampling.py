"""Pure next-token computations and figures on hand-made logits: temperature, top-k/top-p, entropy, sampling,
token labels of byte pieces, and the figure builders. No model."""

import numpy as np
import pytest

from viz.compute import softmax
from viz.figures.next_token import logit_lens_grid, probability_bars, token_cells, top_bars
from viz.model.token_text import piece_labels, raw_label
from viz.sampling import (
    choose_token,
    distribution,
    entropy_bits,
    settled_layer,
    shading_window,
    share_outside,
    step_generator,
    top_indices,
    top_k_mask,
    top_p_mask,
    with_temperature,
)

LOGITS = np.log(np.array([0.5, 0.25, 0.125, 0.0625, 0.0625]))  # probabilities 1/2, 1/4, 1/8, 1/16, 1/16


def test_temperature_one_is_plain_softmax():
    np.testing.assert_allclose(with_temperature(LOGITS, 1.0), [0.5, 0.25, 0.125, 0.0625, 0.0625])


def test_temperature_sharpens_and_flattens():
    cold, hot = with_temperature(LOGITS, 0.1), with_temperature(LOGITS, 2.0)
    assert cold[0] == pytest.approx(1024 / (1024 + 1 + 2**-10 + 2 * 2**-20)) and entropy_bits(cold) < 0.02
    np.testing.assert_allclose(hot, np.sqrt([0.5, 0.25, 0.125, 0.0625, 0.0625]) / np.sqrt(
        [0.5, 0.25, 0.125, 0.0625, 0.0625]).sum())
    assert entropy_bits(hot) > entropy_bits(with_temperature(LOGITS, 1.0))


def test_temperature_is_clipped_to_its_range():
    np.testing.assert_allclose(with_temperature(LOGITS, 0.0), with_temperature(LOGITS, 0.1))
    np.testing.assert_allclose(with_temperature(LOGITS, 50), with_temperature(LOGITS, 2.0))


def test_entropy_in_bits():
    assert entropy_bits(np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])) == pytest.approx(1.875)
    assert entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)
    assert entropy_bits(np.array([1.0, 0.0])) == 0.0


def test_top_k_keeps_the_k_most_probable():
    p = with_temperature(LOGITS, 1.0)
    assert top_k_mask(p, 2).tolist() == [True, True, False, False, False]
    assert top_k_mask(p, 0).all() and top_k_mask(p, None).all() and top_k_mask(p, 99).all()


@pytest.mark.parametrize("p_value, kept", [(0.0, 1), (0.5, 1), (0.6, 2), (0.75, 2), (0.8, 3), (0.99, 5), (1.0, 5)])
def test_top_p_keeps_smallest_set_reaching_p(p_value, kept):
    mask = top_p_mask(with_temperature(LOGITS, 1.0), p_value)
    assert mask.sum() == kept and mask[:kept].all()


def test_distribution_applies_top_k_then_top_p_and_renormalises():
    dist = distribution(LOGITS, temperature=1.0, top_k=3, top_p=0.6)
    # top-k leaves 1/2, 1/4, 1/8 -> renormalised 4/7, 2/7, 1/7; top-p 0.6 then needs the first two
    assert dist.kept.tolist() == [True, True, False, False, False] and dist.n_kept == 2
    assert dist.kept_by_top_k.tolist() == [True, True, True, False, False]
    np.testing.assert_allclose(dist.sampling, [2 / 3, 1 / 3, 0, 0, 0])
    np.testing.assert_allclose(dist.probabilities.sum(), 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_partial_ranking_equals_a_full_sort(seed):
    """top_indices and top_p_mask rank only the head of the distribution; they must pick exactly what a full stable
    sort would, ties (broken by lower id) and a flat distribution (which forces the widening loop) included."""
    rng = np.random.default_rng(seed)
    size = 49_152
    probabilities = softmax(rng.standard_normal(size) * (0.05 if seed == 5 else 3.0))
    probabilities[rng.integers(0, size, 40)] = probabilities[rng.integers(0, size)]  # ties
    full = np.argsort(-probabilities, kind="stable")
    for count in (1, 50, 1000, size):
        assert np.array_equal(top_indices(probabilities, count), full[:count])
    for p in (0.1, 0.9, 0.999):
        before = np.cumsum(probabilities[full]) - probabilities[full]
        expected = np.zeros(size, dtype=bool)
        expected[full[before < p]] = True
        expected[full[0]] = True
        assert np.array_equal(top_p_mask(probabilities, p), expected)


def test_share_outside_is_the_rest():
    p = with_temperature(LOGITS, 1.0)
    assert share_outside(p, np.array([0, 1])) == pytest.approx(0.25)
    assert share_outside(p, np.arange(5)) == pytest.approx(0.0)


def test_greedy_takes_argmax_and_seeded_sampling_repeats():
    dist = distribution(LOGITS, temperature=2.0)
    assert choose_token(dist, greedy=True) == 0
    draws = [choose_token(dist, greedy=False, rng=step_generator(7, step)) for step in range(30)]
    again = [choose_token(dist, greedy=False, rng=step_generator(7, step)) for step in range(30)]
    other = [choose_token(dist, greedy=False, rng=step_generator(8, step)) for step in range(30)]
    assert draws == again and draws != other and len(set(draws)) > 1
    with pytest.raises(ValueError):
        choose_token(dist, greedy=False)


def test_sampling_never_picks_filtered_tokens():
    dist = distribution(LOGITS, temperature=2.0, top_k=2)
    assert {choose_token(dist, greedy=False, rng=step_generator(1, s)) for s in range(200)} == {0, 1}


def test_settled_layer():
    top = np.array([[5, 1], [3, 2], [7, 2], [7, 2]])  # (L+1=4, W=2)
    assert settled_layer(top, 0) == 2 and settled_layer(top, 1) == 1
    assert settled_layer(np.array([[4], [4]]), 0) == 0


def test_byte_pieces_are_joined_never_replacement_character():
    pieces = ["我".encode()[:2], "我".encode()[2:], "在".encode(), " 饭".encode()[:2], " 饭".encode()[2:3],
              " 饭".encode()[3:], b" ok"]
    labels = piece_labels(pieces)
    assert labels == ["我(1/2)", "我(2/2)", "在", " 饭(1/3)", " 饭(2/3)", " 饭(3/3)", " ok"]
    assert piece_labels(["吃".encode()[:2]]) == ["\\xe5\\x90"]
    assert "\ufffd" not in raw_label(b"a\xff")


def test_probability_bars_draw_cuts_and_rest():
    dist = distribution(LOGITS, top_k=3, top_p=0.6)
    figure = probability_bars(dist, token_ids=[0, 1, 2, 3], labels=[" a", " b", "c", "d"], top_k=3, top_p=0.6,
                              chosen_id=1)
    bars = figure.data[0]
    np.testing.assert_allclose(bars.x, [0.5, 0.25, 0.125, 0.0625, 0.0625])  # last bar: the rest
    assert list(figure.layout.yaxis.ticktext) == ["1. ␣a", "2. ␣b", "3. c", "4. d", "rest: 1 other tokens"]
    assert bars.marker.line.width[1] == 3 and bars.marker.line.width[0] == 0
    lines = {shape.y0 for shape in figure.layout.shapes}
    assert lines == {1.5, 2.5}  # top-p cut after 2 bars, top-k cut after 3
    assert bars.customdata[0][1] == pytest.approx(LOGITS[0])  # logit on hover


def test_probability_bars_without_filters_have_no_cut():
    figure = probability_bars(distribution(LOGITS), token_ids=[0, 1], labels=["x", "y"])
    assert not figure.layout.shapes


def test_token_cells_wrap_rows_and_mark():
    figure = token_cells(labels=[f"w{i}" for i in range(14)], values=np.linspace(0, 1, 14), value_name="attention",
                         title="t", per_row=6, marked=13)
    z = np.asarray(figure.data[0].z, dtype=float)
    assert z.shape == (3, 6) and np.isnan(z[2, 2:]).all() and z[2, 1] == pytest.approx(1.0)
    assert figure.data[0].text[2][1] == "▶w13"


def test_logit_lens_grid_has_text_and_probability_colour():
    probabilities = np.array([[0.1, 0.2], [0.3, 0.9], [0.5, 0.6]])
    figure = logit_lens_grid(top_labels=[["a", " b"], ["c", "d"], ["e", " a"]], top_probabilities=probabilities,
                             input_labels=["London", " was"], positions=[0, 1])
    heat = figure.data[0]
    np.testing.assert_allclose(heat.z, probabilities)
    assert heat.text[2][1] == "␣a" and heat.zmin == 0 and heat.zmax == 1
    assert list(figure.layout.yaxis.ticktext) == ["emb", "1", "2"]
    assert list(figure.layout.xaxis.ticktext) == ["0: London", "1: ␣was"]


def test_top_bars():
    figure = top_bars(labels=[" a", " the"], probabilities=np.array([0.12, 0.06]), title="Top-5")
    assert list(figure.layout.yaxis.ticktext) == ["␣a", "␣the"]
    np.testing.assert_allclose(figure.data[0].x, [0.12, 0.06])


def test_probability_bars_rank_a_low_chosen_token():
    dist = distribution(LOGITS, top_k=2)
    figure = probability_bars(dist, token_ids=[0, 1, 4], labels=["a", "b", "e"], top_k=2, chosen_id=4)
    assert list(figure.layout.yaxis.ticktext)[:3] == ["1. a", "2. b", "4. e"]
    assert figure.data[0].marker.line.width[2] == 3
    assert [shape.y0 for shape in figure.layout.shapes] == [1.5]  # the chosen token lies below the top-k cut


def test_shading_window_scale_leaves_out_the_first_token():
    weights = np.array([0.7, 0.1, 0.15, 0.05])
    assert shading_window(weights, limit=96, skip_first=True) == (0, pytest.approx(0.15))
    assert shading_window(weights, limit=96, skip_first=False) == (0, pytest.approx(0.7))
    assert shading_window(weights[:2], limit=96, skip_first=True) == (0, pytest.approx(0.7))  # too few to skip


def test_shading_window_shows_only_the_last_tokens():
    weights = np.array([0.9, 0.01, 0.02, 0.03, 0.04])
    assert shading_window(weights, limit=3, skip_first=True) == (2, pytest.approx(0.04))  # first token not shown
    assert shading_window(weights, limit=5, skip_first=True) == (0, pytest.approx(0.04))


def test_token_probability_equals_the_softmax_entry():
    from viz.sampling import token_probability

    logits = np.array([2.0, 1.0, -3.0, 0.5], dtype=np.float32)
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert [token_probability(logits, i) for i in range(4)] == pytest.approx(softmax.tolist(), abs=1e-7)
    assert token_probability(np.array([1000.0, 0.0]), 0) == pytest.approx(1.0)  # no overflow
