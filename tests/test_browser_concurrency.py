"""A classroom at once: many browser sessions on one server each see their own results."""

import asyncio
import concurrent.futures
import time

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, IDLE_SCRIPT

pytestmark = pytest.mark.browser
SESSIONS = 10
MEMORY_BOUND = 6 * 2**30  # stated in the README


async def _one_session(browser, url: str, index: int, errors: list) -> str:
    context = await browser.new_context()
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{index}: {error}"))
    page.on("dialog", lambda dialog: errors.append(f"{index}: dialog {dialog.message}"))
    await page.goto(url)
    await page.wait_for_selector('[data-testid="stText"]', timeout=120_000)
    area = page.get_by_label("Text", exact=True)
    await area.fill(f"student number {index} likes zebra{index}")
    await area.press("Control+Enter")
    await page.wait_for_function(
        f"() => (document.querySelector('[data-testid=\"stText\"]')?.innerText || '').includes('{index}')",
        timeout=120_000,
    )
    await page.wait_for_function(IDLE_SCRIPT, timeout=120_000)
    shown = await page.locator('[data-testid="stText"]').inner_text()
    assert await page.locator('[data-testid="stException"]').count() == 0
    await context.close()
    return shown


async def _classroom(url: str) -> list[str]:
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        shown = await asyncio.wait_for(
            asyncio.gather(*(_one_session(browser, url, i, errors) for i in range(SESSIONS))), timeout=240
        )
        await browser.close()
    assert errors == []
    return shown


def test_ten_sessions_see_their_own_text(app_server):
    started = time.monotonic()
    # Own thread, own event loop: the session's sync Playwright (other browser tests) holds this thread's loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        shown = pool.submit(asyncio.run, _classroom(app_server.url)).result(timeout=300)
    for index, text in enumerate(shown):
        assert "student" in text and f"{index}" in text
        others = [i for i in range(SESSIONS) if i != index and f"zebra{i}" in text.replace(" | ", "").replace("##", "")]
        assert others == [], f"session {index} saw another session's text"
    assert app_server.rss_bytes() < MEMORY_BOUND
    memory = app_server.rss_bytes() / 2**20
    print(f"{SESSIONS} sessions in {time.monotonic() - started:.1f} s, server RSS {memory:.0f} MB")
