"""Change one word, see what moves: hand-checkable alignment, distances, KL and default edits (no model)."""

import numpy as np
import pytest

from viz import edits
from viz.attention_stats import align_tokens
from viz.figures.edits import difference_heatmap, sense_lines, shift_bars

ANIMAL = "The animal didn't cross the street because it was too tired."
STREET = "The animal didn't cross the street because it was too narrow."


def test_alignment_with_a_replacement_and_an_insertion():
    """cat → dog is one replaced column; "right" is inserted (empty on the original's side)."""
    before = ["<s>", "the", "cat", "sat", "down", "."]
    after = ["<s>", "the", "dog", "sat", "right", "down", "."]
    columns = align_tokens(before, after)
    assert [(c.a, c.b) for c in columns] == [((0,), (0,)), ((1,), (1,)), ((2,), (2,)), ((3,), (3,)), ((), (4,)),
                                             ((4,), (5,)), ((5,), (6,))]
    assert [c.label for c in columns if c.changed] == ["cat → dog", "∅ → right"]


def test_aligned_attention_sums_keys_averages_queries_and_leaves_a_missing_row_empty():
    """A 2-token stretch "big dog" replacing "cat": its key weights add up, its two query rows are averaged."""
    before, after = ["x", "cat", "z"], ["x", "big", "dog", "z"]
    columns = align_tokens(before, after)
    assert [(c.a, c.b) for c in columns] == [((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))]
    weights = np.array([[1, 0, 0, 0], [0.4, 0.6, 0, 0], [0.2, 0.2, 0.6, 0], [0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(edits.aligned_attention(weights, columns, "b"),
                               [[1, 0, 0], [0.3, 0.7, 0], [0.1, 0.5, 0.4]], atol=1e-6)
    inserted = align_tokens(["x", "y"], ["x", "w", "y"])
    aligned = edits.aligned_attention(np.array([[1.0, 0], [0.5, 0.5]]), inserted, "a")
    np.testing.assert_allclose(aligned[[0, 2]], [[1, 0, 0], [0.5, 0, 0.5]])
    assert np.isnan(aligned[1]).all()  # "w" has no query row in the text without it


def test_distance_is_zero_for_identical_maps_and_known_for_a_hand_made_pair():
    weights = np.array([[1.0, 0.0], [0.5, 0.5]])
    same = edits.head_changes(weights[None, None], weights[None, None], ["a", "b"], ["a", "b"])
    assert same.distance[0, 0] == 0.0
    other = np.array([[1.0, 0.0], [0.1, 0.9]])
    changed = edits.head_changes(weights[None, None], other[None, None], ["a", "b"], ["a", "b"])
    assert changed.distance[0, 0] == pytest.approx(0.2)  # rows: TV 0 and ½(0.4 + 0.4) = 0.4 -> mean 0.2
    assert changed.query[0, 0] == 1 and changed.query_distance[0, 0] == pytest.approx(0.4)


def test_distance_with_an_inserted_token_counts_the_attention_it_takes():
    """x y z -> x w y z. Rows (aligned columns x, ∅→w, y, z) of the original: x [1,0,0,0], y [.5,0,.5,0],
    z [.2,0,.3,.5]; of the edit: x [1,0,0,0], y [.2,.2,.3,.3], z [.1,.1,.4,.4]. TV: 0, 0.5, 0.2 -> mean 0.7/3."""
    a = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])
    b = np.array([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0.2, 0.2, 0.3, 0.3], [0.1, 0.1, 0.4, 0.4]])
    changes = edits.head_changes(a[None, None], b[None, None], list("xyz"), list("xwyz"))
    assert changes.compared.tolist() == [True, False, True, True]
    assert changes.distance[0, 0] == pytest.approx(0.7 / 3)
    assert changes.columns[changes.query[0, 0]].label == "y"
    causal = edits.head_changes(a[None, None], b[None, None], list("xyz"), list("xwyz"), causal=True)
    assert causal.compared.tolist() == [False, False, True, True]  # x comes before the change: it cannot see it
    assert causal.distance[0, 0] == pytest.approx(0.35)
    difference = edits.difference_map(a, b, changes.columns, causal=True)
    assert np.isnan(difference[1]).all() and np.isnan(difference[0, 1:]).all()  # missing row; later columns
    np.testing.assert_allclose(difference[3], [-0.1, 0.1, 0.1, -0.1], atol=1e-6)


def test_heads_are_ranked_by_change():
    rng = np.random.default_rng(0)
    a = rng.dirichlet(np.ones(4), size=(2, 3, 4))  # (L=2, H=3, T=4, T=4)
    b = a.copy()
    b[1, 2] = rng.dirichlet(np.ones(4), size=4)
    changes = edits.head_changes(a, b, list("abcd"), list("abcd"))
    assert changes.ranked()[0] == (1, 2)
    table = edits.head_change_table(changes)
    assert table.iloc[0][["layer", "head"]].tolist() == [1, 2] and (table["change"].iloc[1:] == 0).all()


def test_kl_divergence_of_known_distributions():
    """KL([½, ½] ‖ [¼, ¾]) = ½·log2(2) + ½·log2(2/3) = 0.2075 bits; KL(p ‖ p) = 0."""
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    assert edits.kl_bits(p, q) == pytest.approx(0.5 + 0.5 * np.log2(2 / 3))
    assert edits.kl_bits(p, p) == 0.0
    assert edits.kl_bits(np.array([0.0, 1.0]), np.array([0.5, 0.5])) == pytest.approx(1.0)  # 0 log 0 = 0
    shift = edits.distribution_shift(np.log(p), np.log(q), count=1)
    assert shift.kl_bits == pytest.approx(0.20752, abs=1e-5)
    assert shift.token_ids.tolist() == [0, 1] and shift.top_before == 0 and shift.top_after == 1
    np.testing.assert_allclose(shift.after, [0.25, 0.75])


def test_default_edits():
    assert edits.default_edit(ANIMAL, mask_token="[MASK]").text == STREET
    assert edits.default_edit(STREET, mask_token=None).text == ANIMAL
    party = edits.default_edit("students celebrate the graduation with a big party", mask_token=None, keep="party")
    assert party.text == "students celebrate the election with a big party"
    assert edits.default_edit("He is here", mask_token=None).text == "She is here"
    masked = edits.default_edit("a quiet morning in the hills", mask_token="[MASK]", keep="hills")
    assert masked.text == "a quiet [MASK] in the hills"  # the last content word other than the followed one
    assert "mask token" in masked.description
    assert edits.default_edit("a quiet morning in it", mask_token=None).text == "a quiet something in it"
    assert edits.default_edit("it is", mask_token=None).text == "it something"
    assert edits.default_edit("?!", mask_token=None).text == "?!"
    assert edits.replace_word("我正在吃饭", "吃饭", "睡觉") == "我正在睡觉"


def test_word_changes():
    assert edits.word_changes(ANIMAL, STREET) == [("tired", "narrow")]
    assert edits.word_changes("the cat sat", "the big cat sat") == [("", "big")]
    assert edits.word_changes("same", "same") == []
    assert edits.word_changes("a b c", "a <x>(1) c") == [("b", "<x>(1)")]
    assert edits.word_changes("x a b", "y a b") == [("x", "y")] and edits.word_changes("a b", "a b c") == [("", "c")]
    long_a, long_b = "x " * 10_000, "y " * 10_000  # two different 20,000-character texts: one stretch, not difflib
    assert edits.word_changes(long_a, long_b) == [(long_a.strip(), long_b.strip())]


def test_figures():
    figure = difference_heatmap(difference=np.array([[0.1, np.nan], [-0.3, 0.2]]), labels=["a", "b → c"],
                                title="t")
    heatmap = figure.data[0]
    assert heatmap.zmid == 0 and heatmap.zmin == pytest.approx(-0.3) and heatmap.zmax == pytest.approx(0.3)
    assert heatmap.colorscale[0][1] != heatmap.colorscale[-1][1] and heatmap.reversescale
    assert figure.layout.plot_bgcolor == "#8c8c8c"  # NaN cells show as grey, the masked colour
    bars = shift_bars(labels=[" cat", "dog"], before=[0.5, 0.1], after=[0.2, 0.6], title="t")
    assert [trace.name for trace in bars.data] == ["original", "edited"]
    assert list(bars.data[1].x) == [0.2, 0.6] and bars.layout.yaxis.ticktext == ("␣cat", "dog")
    lines = sense_lines(curves={"S1 vs S2": [1, 0.5], "edited S1 vs S2": [1, 0.7]},
                        edited={"S1 vs S2": False, "edited S1 vs S2": True}, groups={"S1 vs S2": 1,
                                                                                     "edited S1 vs S2": 1}, title="t")
    assert [trace.line.dash for trace in lines.data] == ["solid", "dash"]
    assert lines.data[0].line.color == lines.data[1].line.color


def plain_distances(a, b, changes):
    """The definition, step by step: gathered aligned maps, row distances, mean over the compared rows."""
    return [edits.row_distances(edits.aligned_attention(a[layer], changes.columns, "a"),
                                edits.aligned_attention(b[layer], changes.columns, "b"))[:, changes.compared].mean(-1)
            for layer in range(a.shape[0])]


def test_sliced_and_gathered_distances_agree():
    """The fast path (slices of the maps) gives the definition's distances with a replaced stretch, an insertion and
    a removal; texts differing in 40 places (over MAX_SEGMENTS runs) take the plain path."""
    rng = np.random.default_rng(1)
    before = [f"w{i}" for i in range(30)]
    after = before[:5] + ["new", "words"] + before[6:12] + ["added"] + before[12:20] + before[21:]
    a, b = rng.dirichlet(np.ones(30), size=(2, 3, 30)), rng.dirichlet(np.ones(len(after)), size=(2, 3, len(after)))
    fast = edits.head_changes(a, b, before, after)
    assert len(edits._segments(fast.columns)) == 7
    np.testing.assert_allclose(fast.distance, plain_distances(a, b, fast), atol=1e-6)
    scattered = [piece for i, t in enumerate(before * 4) for piece in ([t + "x", "y"] if i % 3 == 0 else [t])]
    c = rng.dirichlet(np.ones(len(scattered)), size=(2, 3, len(scattered)))
    many = edits.head_changes(np.tile(a, (1, 1, 4, 4)) / 4, c, before * 4, scattered)
    assert len(edits._segments(many.columns)) > edits.MAX_SEGMENTS
    np.testing.assert_allclose(many.distance, plain_distances(np.tile(a, (1, 1, 4, 4)) / 4, c, many), atol=1e-6)
