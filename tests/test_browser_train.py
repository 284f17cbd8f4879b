"""Chromium: train a tiny model on the Train page, watch it finish, open it on the Attention and Next-token pages."""

import shutil
from urllib.parse import unquote, urlencode

import pytest
from browser_support import block_internet, open_page, screenshot, wait_idle

from viz import training as task
from viz.model.registry import trained_folder

pytestmark = pytest.mark.browser
SETTINGS = task.TrainSettings(layers=2, heads=2, width=32, context=16, steps=60, seed=21)
LINK = {"train_heads": "2", "train_width": "32", "train_context": "16", "train_steps": "60", "train_seed": "21"}


def test_train_then_open_the_model_on_other_pages(app_server, browser):
    shutil.rmtree(trained_folder(SETTINGS.folder_name), ignore_errors=True)  # train it for real, not from disk
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = block_internet(context, app_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{app_server.url}/train?{urlencode(LINK)}")
    wait_idle(page)
    page.get_by_role("button", name="Train").click()
    page.get_by_text("steps/s").first.wait_for(timeout=60_000)  # the live progress bar
    page.get_by_role("button", name="Open in the other pages").wait_for(timeout=120_000)
    wait_idle(page)
    screenshot(page, "page-train-finished")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() >= 4  # loss, head scores, all heads, one head
    page.get_by_role("button", name="Open in the other pages").click()
    wait_idle(page)
    assert SETTINGS.key in unquote(page.url)  # the link now carries the trained model's key
    open_page(page, "attention")
    wait_idle(page)
    page.get_by_text(f"{task.MODEL_NAME} trained here").first.wait_for(timeout=60_000)
    svg = page.frame_locator("iframe").first.locator("svg").first
    svg.wait_for(timeout=60_000)
    screenshot(page, "page-attention-trained")
    open_page(page, "next_token")
    wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    screenshot(page, "page-next_token-trained")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert problems == [] and blocked == []
    context.close()
