"""The Train page in AppTest: before training, bad settings, pressing Train, results, opening the model elsewhere."""

import shutil
import time

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from viz import training as task
from viz.model import training as trained
from viz.model.registry import trained_folder

SMALL = task.TrainSettings(layers=2, heads=2, width=32, context=8, steps=20, seed=5)
LINK = {"train_heads": "2", "train_width": "32", "train_context": "8", "train_steps": "20"}


def open_train(**params) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params.update(params)
    app.run()
    app.switch_page("pages/train.py")
    app.run()
    return app


def test_before_training_the_page_shows_the_pattern_to_look_for():
    app = open_train(**LINK, train_seed="6")  # never trained
    assert not app.exception
    assert app.button(key="train_start").label == "Train"
    assert len(app.get("plotly_chart")) == 1  # the perfect induction head
    assert f"trained:induction-L2-H2-D32-C8-S20-lr0.003-seed6-v{task.CODE_VERSION}" in app.caption[0].value


def test_bad_settings_in_a_link_give_a_message():
    app = open_train(train_width="32", train_heads="3")
    assert not app.exception
    assert any("multiple of the number of heads" in warning.value for warning in app.warning)
    app = open_train(train_task="text", train_text="too short")
    assert any("at least 40" in warning.value for warning in app.warning)


def test_pressing_train_trains_in_the_background_then_shows_the_run():
    settings = task.TrainSettings(layers=2, heads=2, width=32, context=8, steps=20, seed=8)
    shutil.rmtree(trained_folder(settings.folder_name), ignore_errors=True)
    app = open_train(**LINK, train_seed="8")
    app.button(key="train_start").click().run()
    assert not app.exception
    deadline = time.monotonic() + 60
    while not (trained_folder(settings.folder_name) / "training.npz").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    app.run()
    assert not app.exception
    assert app.button(key="train_open")  # finished: the page offers the model to the other pages
    assert len(app.get("plotly_chart")) == 4  # loss, head scores, all heads, one head


@pytest.fixture(scope="module")
def small_run():
    model, tokenizer, history = trained.train(SMALL)
    trained.save(model, tokenizer, history)
    return history


def test_a_finished_run_opens_on_the_other_pages(small_run):
    app = open_train(**LINK, train_seed="5")
    assert not app.exception
    assert f"{small_run.done_steps} steps in" in app.caption[1].value
    assert any("**Induction score**" in block.value for block in app.markdown)
    assert any("No head of layer 1 or later passed 0.5 yet" in block.value for block in app.info)  # 20 steps: none
    app.select_slider(key="train_checkpoint").set_value(small_run.steps[1]).run()
    assert not app.exception and f"at step {small_run.steps[1]}" in app.get("plotly_chart")[-1].proto.spec
    app.button(key="train_open").click().run()
    assert app.session_state["model_id"] == SMALL.key and app.query_params["model"] == SMALL.key
    assert app.text_area(key="text").value == "".join(small_run.probe[1:]).replace(task.SPACE, " ")
    assert app.success
    app.switch_page("pages/attention.py")
    app.run()
    assert not app.exception and not app.error
    assert app.caption[0].value.startswith(f"{task.MODEL_NAME} trained here ({SMALL.folder_name}): 2 layers × 2 heads")
    app.switch_page("pages/next_token.py")
    app.run()
    assert not app.exception and not app.error


def test_a_link_to_a_trained_model_gone_from_the_machine_says_how_to_retrain():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["model"] = f"trained:induction-L2-H2-D32-C8-S13-lr0.003-seed9-v{task.CODE_VERSION}"
    app.run()
    assert not app.exception
    assert any("open the Train page and train it again with these settings" in e.value for e in app.error)


def test_a_link_to_a_model_of_older_training_code_says_how_to_retrain():
    """A key without "-v2" names a model the GPT-2 code of version 1 trained: refused, with the way back."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["model"] = "trained:induction-L2-H4-D64-C32-S600-lr0.003-seed0"
    app.run()
    assert not app.exception
    assert any("older version of the Train page" in e.value and "train it again" in e.value for e in app.error)
