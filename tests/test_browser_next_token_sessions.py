"""Chromium: two students generate on the Next-token page at the same time, each in their own browser session with
their own prompt and seed. Their clicks are interleaved, so the server runs both sessions' steps side by side; each
must see only its own run, token for token the run the model gives for that prompt and seed."""

from urllib.parse import urlencode

import pytest
from browser_support import block_internet, wait_idle

from viz.model.generation import generate, start
from viz.model.token_text import sequence_text

pytestmark = pytest.mark.browser

STEPS = 3
STUDENTS = [("London was", 7), ("Paris will", 11)]  # prompt, seed
HISTORY_BUTTONS = ".st-key-next_history button"


def expected_text(decoder, prompt: str, seed: int) -> str:
    """The sequence after STEPS sampled steps with this seed, one step per click as the page does it."""
    run = start(decoder, decoder.tokenizer(prompt)["input_ids"])
    for _ in range(STEPS):
        run = generate(decoder, run, 1, greedy=False, seed=seed, temperature=1.0)
    return sequence_text(decoder.tokenizer, run.ids)


def shown_text(page) -> str:
    return page.locator('[data-testid="stText"]').first.inner_text().strip()


def wait_for_steps(page, count: int) -> None:
    page.wait_for_function(f"n => document.querySelectorAll('{HISTORY_BUTTONS}').length === n", arg=count,
                           timeout=120_000)
    wait_idle(page)


def test_two_sessions_generate_their_own_text_side_by_side(app_server, browser, decoder):
    contexts, pages, blocked, errors = [], [], [], []
    for prompt, _ in STUDENTS:  # open both before waiting, so the two sessions start together
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        blocked += block_internet(context, app_server.url)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        query = urlencode({"model": "bundled:smollm2", "text": prompt, "next_lens_on": "0"})
        page.goto(f"{app_server.url}/next_token?{query}", wait_until="commit")
        contexts.append(context)
        pages.append(page)
    for page, (prompt, seed) in zip(pages, STUDENTS, strict=True):
        wait_idle(page, timeout_ms=180_000)
        assert shown_text(page) == prompt
        assert page.get_by_role("radio", name="sampling").is_checked()
        box = page.get_by_label("Seed", exact=True)
        box.fill(str(seed))
        box.press("Enter")
        page.wait_for_function(f"() => location.search.includes('next_seed={seed}')", timeout=60_000)
        wait_idle(page)

    for step in range(1, STEPS + 1):
        for page in pages:  # both clicks go out before either run has finished
            page.get_by_role("button", name="Next step", exact=True).click()
        for page in pages:
            wait_for_steps(page, step)

    texts = [shown_text(page) for page in pages]
    for page, text, (prompt, seed), (other, _) in zip(pages, texts, STUDENTS, STUDENTS[::-1], strict=True):
        assert text.startswith(prompt) and len(text) > len(prompt)
        assert other not in text
        assert text == expected_text(decoder, prompt, seed)  # its own prompt and seed, nothing of the other run
        assert page.locator(HISTORY_BUTTONS).count() == STEPS
        assert f"next_seed={seed}" in page.url
        assert page.locator('[data-testid="stException"]').count() == 0
    continuations = [text[len(prompt):] for text, (prompt, _) in zip(texts, STUDENTS, strict=True)]
    print(f"two sessions, {STEPS} steps each: {texts}")
    assert continuations[0] != continuations[1]
    assert errors == [] and blocked == []
    for context in contexts:
        context.close()
