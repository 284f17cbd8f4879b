"""Training a tiny transformer: task data and head scores (numpy), the training loop, the shared run registry."""

import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import PARTY

from viz import qkv_steps as steps
from viz import training as task
from viz.model import analyze, attention_qkv, load_model, resolve_model
from viz.model import training as trained
from viz.model.registry import UnknownModel, trained_folder
from viz.ui.training import DONE, QUEUED, RUNNING, STOPPED, Trainer

TINY = task.TrainSettings(layers=2, heads=2, width=32, context=16, steps=30, learning_rate=0.01, seed=3)
TEXT = "the cat sat on the mat. the dog sat on the log. the cat and the dog sat on the mat and the log."


@pytest.fixture(autouse=True)
def one_thread():
    """The app trains on one thread (viz/ui/cached.py); determinism holds for a fixed thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_induction_batch_repeats_its_pattern_and_masks_the_predictable_part():
    ids, mask = task.induction_batch(np.random.default_rng(0), 64, 32, 37, 2)
    assert ids.shape == mask.shape == (64, 33) and (ids[:, 0] == 0).all() and ids[:, 1:].min() >= 2
    for row, row_mask in zip(ids, mask, strict=True):
        predictable = np.flatnonzero(row_mask)
        m = predictable[-1] - predictable[0] + 2  # the repeat's tokens 2..m are masked
        assert 8 <= m <= 16 and (row[m + 1:2 * m + 1] == row[1:m + 1]).all()
    assert len({int(np.flatnonzero(r)[0]) for r in mask}) > 3  # pattern lengths vary: no copying by position


def test_scores_of_ideal_heads_and_of_chance():
    perfect = task.induction_pattern(33, 16)
    assert task.induction_score(perfect, 16) == 1.0
    previous = np.eye(33, k=-1)
    assert task.previous_token_score(previous) == 1.0 and task.induction_score(previous, 16) == 0.0
    chance_previous, chance_induction = task.chance_scores(33, 16)
    assert 0.03 < chance_induction < 0.05 < chance_previous < 0.1
    stacked = np.stack([np.stack([task.uniform_causal(33), perfect])[None]] * 3)  # (K=3, L=1, H=2, T, T)
    scores = task.induction_score(stacked, 16)
    assert scores.shape == (3, 1, 2) and task.best_head(scores[-1]) == (0, 1)
    assert task.first_step_above(np.array([0, 10, 20]), np.array([[[0.1]], [[0.2]], [[0.5]]])) == 20
    assert task.first_step_above(np.array([0, 10]), np.array([[[0.1]], [[0.2]]])) is None


def test_settings_keys_read_back_and_bounds_give_messages():
    text_settings = replace(TINY, task=task.TEXT, text_id=task.text_id(TEXT), temperature=0.5)
    for settings in (task.TrainSettings(), TINY, text_settings):
        assert task.parse_key(settings.key) == settings
    assert task.TrainSettings().key == "trained:induction-L2-H4-D64-C32-S600-lr0.003-seed0"
    assert task.parse_key("gpt2") is None
    with pytest.raises(task.BadSettings, match="multiple of the number of heads"):
        task.check_settings(replace(TINY, heads=3))
    with pytest.raises(task.BadSettings, match="layers must be from 1 to 4"):
        task.check_settings(replace(TINY, layers=9))
    with pytest.raises(task.BadSettings, match="at least 40"):
        task.check_text("too short")
    with pytest.raises(task.BadSettings, match="at most 20,000"):
        task.check_text("x" * 20_001)


def test_a_missing_trained_model_says_how_to_get_it_back():
    with pytest.raises(UnknownModel, match="not on this machine any more: open the Train page.*seed 7"):
        resolve_model("trained:induction-L2-H2-D32-C8-S11-lr0.003-seed7")


def test_a_few_steps_lower_the_loss_and_the_same_seed_repeats_the_curve():
    settings = replace(TINY, task=task.TEXT, text_id=task.text_id(TEXT), steps=40)
    _, _, first = trained.train(settings, TEXT)
    _, _, again = trained.train(settings, TEXT)
    _, _, other = trained.train(replace(settings, seed=4), TEXT)
    losses = first.array("losses")[:, 0]
    assert losses.shape == (40,) and losses[-5:].mean() < losses[:5].mean() - 0.5
    np.testing.assert_array_equal(losses, again.array("losses")[:, 0])  # same seed: the same curve, exactly
    assert not np.array_equal(losses, other.array("losses")[:, 0])
    assert first.steps == [0, 10, 20, 30, 40] and len(first.samples) == 5  # one checkpoint per 10 steps here


@pytest.fixture(scope="module")
def tiny_trained():
    """A tiny induction run saved to .cache/trained/ and loaded like any model."""
    model, tokenizer, history = trained.train(TINY)
    trained.save(model, tokenizer, history)
    return load_model(resolve_model(TINY.key)), history


def test_a_trained_model_loads_and_keeps_its_history(tiny_trained):
    loaded, history = tiny_trained
    assert loaded.spec.source == "trained" and loaded.info.family == "gpt2" and loaded.info.max_tokens == 17
    assert (loaded.info.n_layers, loaded.info.n_heads, loaded.info.width) == (2, 2, 32)
    kept = trained.load_history(TINY)
    np.testing.assert_allclose(kept.array("losses"), history.array("losses"))
    assert kept.steps == history.steps and kept.probe == history.probe and kept.probe[0] == task.START
    assert np.abs(np.array(kept.snapshots) - np.array(history.snapshots)).max() < 1e-3  # kept as float16


def test_trained_model_passes_the_qkv_reproduction(tiny_trained):
    loaded, _ = tiny_trained
    analysis = analyze(loaded, "abc de abc de")
    assert analysis.tokens[:4] == (task.START, "a", "b", "c") and analysis.special[0] and not analysis.special[1:].any()
    for layer in range(loaded.info.n_layers):
        qkv = attention_qkv(loaded, analysis, layer)
        for head in range(loaded.info.n_heads):
            for query in range(analysis.n_tokens):
                step = steps.query_steps(qkv, head=head, query=query)
                assert steps.max_difference(step.weights, analysis.attentions[layer, head, query]) < 1e-4
    assert analyze(loaded, PARTY).n_tokens == 17  # cut to the context it was trained on


def _wait(run, statuses, seconds=60):
    deadline = time.monotonic() + seconds
    while run.status not in statuses and time.monotonic() < deadline:
        time.sleep(0.05)
    return run.status


def test_one_training_at_a_time_shared_by_settings_and_queued(tmp_path, monkeypatch):
    monkeypatch.setattr("viz.model.registry.TRAINED_DIR", tmp_path)
    trainer = Trainer(hold_slot=False)
    first, second = replace(TINY, steps=200, seed=11), replace(TINY, steps=20, seed=12)
    run = trainer.request(first, None, "student-1")
    assert trainer.request(first, None, "student-2") is run and run.watchers == {"student-1", "student-2"}
    queued = trainer.request(second, None, "student-3")
    assert _wait(run, (RUNNING,)) == RUNNING and queued.status == QUEUED and trainer.waiting_before(second) == 1
    trainer.leave(first, "student-1")
    assert not run.stop.is_set()  # student-2 still watches
    trainer.leave(first, "student-2")
    assert _wait(run, (STOPPED,)) == STOPPED and run.history.done_steps < 200
    assert not (tmp_path / first.folder_name).exists()  # a stopped run is not saved
    assert _wait(queued, (DONE,)) == DONE and (tmp_path / second.folder_name / "model.safetensors").is_file()
    restarted = Trainer(hold_slot=False).find(second)  # a new process finds the finished run on disk
    assert restarted.status == DONE and restarted.history.done_steps == 20
    assert trained_folder("x").parent == tmp_path


def test_default_settings_learn_the_repeat_and_a_head_attends_to_the_induction_target():
    """The default run (~10-45 s here): the repeat's loss ends well under the first occurrence's, and a head puts
    several times chance on the token after the earlier occurrence (measured, seed 0: 3.73 vs 2.43; the best head,
    in layer 0, 0.34 against chance 0.055; heads of layer 1 stay at 0.08, so no two-layer induction circuit yet)."""
    model, tokenizer, history = trained.train(task.TrainSettings())
    trained.save(model, tokenizer, history)  # the page then opens it without training
    losses = history.array("losses")[-50:].mean(axis=0)  # (all, first occurrence, repeat)
    induction = history.array("induction")
    chance = task.chance_induction(len(history.probe), history.pattern_lengths)
    assert losses[1] > 3.5 and losses[2] < losses[1] - 1.0
    assert induction[-1].max() > 0.25 > 4 * chance
    assert induction[0].max() < 2 * chance  # at the start no head does it
