"""Chromium: a teacher sets layer, head and query token with the keyboard, copies the address bar, and a student
opening that link in a fresh browser (no shared cookies or storage) sees the same view, here in presentation mode."""

import re

import pytest
from browser_support import _arm, _wait_for_rerun, block_internet, choose, wait_idle

pytestmark = pytest.mark.browser


def slider(page, label: str):
    return page.locator('[data-testid="stSlider"]').filter(has_text=label).first.locator('input[type="range"]')


def press(page, label: str, key: str, times: int) -> None:
    """Move a slider with the keyboard, as a person without a mouse would."""
    handle = slider(page, label)
    handle.focus()
    _arm(page)
    for _ in range(times):
        handle.press(key)
    _wait_for_rerun(page)
    wait_idle(page)


def test_a_shared_link_reopens_the_same_layer_head_and_token(app_server, browser):
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked = block_internet(teacher, app_server.url)
    page = teacher.new_page()
    page.goto(f"{app_server.url}/qkv")
    wait_idle(page, timeout_ms=180_000)
    assert slider(page, "Layer").input_value() == "5"  # minilm's last layer, the default
    press(page, "Layer", "ArrowLeft", 2)
    press(page, "Head", "ArrowRight", 7)
    choose(page, "Query token", "4: graduation")
    wait_idle(page)
    link = page.url
    assert re.search(r"qkv_layer=3\b", link) and re.search(r"qkv_head=7\b", link) and "qkv_token=4" in link
    assert page.get_by_text("Layer 3, head 7: every query and key").count() == 1
    teacher.close()

    student = browser.new_context(viewport={"width": 1400, "height": 1000})  # fresh: nothing carried over
    blocked += block_internet(student, app_server.url)
    page = student.new_page()
    page.goto(f"{link}&present=1")
    wait_idle(page, timeout_ms=180_000)
    assert page.url.split("?")[0].endswith("/qkv")
    assert slider(page, "Layer").input_value() == "3"
    assert slider(page, "Head").input_value() == "7"
    assert page.get_by_role("combobox", name="Query token").input_value() == "4: graduation"
    assert page.get_by_text("Layer 3, head 7: every query and key").count() == 1
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "22px"  # presentation
    assert page.get_by_text("Numbers (CSV)").count() == 0  # fewer controls on the projector
    student.close()
    assert blocked == []
