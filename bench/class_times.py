"""A class at once (issue 13): 1, 10 and 30 browser sessions opening each page together, each with its own sentence.

One server (`streamlit run app.py`, loopback, HF_HUB_OFFLINE=1), warmed first: both bundled models loaded and every
page opened once. Then for N in (1, 10, 30) and each page, N new browser contexts of one headless Chromium open
`/<page>?model=bundled:smollm2&text=<a new 9-word sentence whose subject is a marker word like qz017x>` at once.
Per session: seconds from `goto` to the page idle with its last chart drawn (browser_views.DRAWN_JS, polled every
0.1 s by the page itself, the first moment it holds, clocked in the page; no settling wait inside the window) and
whether its page text (DOM text, and
the BertViz iframe's) holds another session's marker (a leak; must be 0; tables drawn on canvas, like
st.dataframe, are not read). Per batch: server CPU seconds (utime+stime) over the batch ÷ N, the same
for the client side (Chromium and Playwright's driver: they share the machine's cores with the server), server resident
memory after it and its peak during it (MB = 10^6 bytes). A batch is bounded at 120 s: a session not drawn by
then counts as a timeout.

Memory (`memory()`, its own fresh server): both bundled models loaded, then 10 sessions at once on the decoder
pages (attention, next_token, qkv); then a ~512-token text on every page with both models, one after the other.

Run through class_run.py (alone: `cd bench && PYTHONPATH=.. ../.venv/bin/python class_run.py [--pages a,b]
[--counts 1,10,30] [--skip-memory]`; `make bench` calls it from run.py). Writes results/class.md and class.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import time
import urllib.parse
from pathlib import Path

from browser_views import PAGES, ROOT, TEXT_JS, Server, drawn_after_async, launch, page_url, sentence, tree_cpu_seconds
from playwright.async_api import async_playwright

RESULTS = Path(__file__).resolve().parent / "results"
MODEL, ENCODER = "bundled:smollm2", "bundled:minilm"
COUNTS = (1, 10, 30)
BATCH_S, ALL_DRAWN_S, RATIO_TARGET = 120.0, 60.0, 4.0
POLL_S = 0.1
DECODER_PAGES = ["attention", "next_token", "qkv"]


def marker(index: int) -> str:
    return f"qz{index:03d}x"


def squash(text: str) -> str:
    """Lower-case letters and digits only: token pieces shown apart ("qz", "0", "1", "7", "x") read as one word."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def link(server: Server, stem: str, text: str, model: str = MODEL) -> str:
    return page_url(server, stem, urllib.parse.urlencode({"model": model, "text": text}))


async def one_session(browser, url: str, deadline: float) -> dict:
    """One new browser context opening `url`; seconds to drawn (None on timeout) and the page's text."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)[:300]))
    started, started_epoch = time.monotonic(), time.time()
    try:
        await page.goto(url, wait_until="commit", timeout=max(deadline - started, 1) * 1000)
        seconds = await drawn_after_async(page, started_epoch, timeout_s=max(deadline - time.monotonic(), 1),
                                          poll_ms=int(POLL_S * 1000))
        if await page.locator('[data-testid="stException"]').count():  # drawn, but the app broke
            errors.append("stException on the page")
        return {"seconds": round(seconds, 3), "text": squash(await page.evaluate(TEXT_JS)), "errors": errors}
    except Exception as error:  # a timeout (or a page that broke): reported as not drawn
        return {"seconds": None, "text": "", "errors": errors + [f"{type(error).__name__}: {str(error)[:200]}"]}
    finally:
        await context.close()


async def sample_rss(server: Server, peak: list, stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss_mb())
        await asyncio.sleep(0.2)


async def batch(browser, server: Server, urls: list[str], markers: list[str], limit_s: float = BATCH_S) -> dict:
    """Open every url at once (one context each); timings, CPU per view, memory, leaks."""
    peak, stop = [server.rss_mb()], asyncio.Event()
    sampler = asyncio.create_task(sample_rss(server, peak, stop))
    client0 = tree_cpu_seconds(os.getpid(), server.pid)
    cpu0, started = server.cpu(), time.monotonic()
    sessions = await asyncio.gather(*(one_session(browser, url, started + limit_s) for url in urls))
    cpu1, wall = server.cpu(), time.monotonic() - started
    client = tree_cpu_seconds(os.getpid(), server.pid) - client0
    stop.set()
    await sampler
    leaks = sum(any(squash(other) in s["text"] for j, other in enumerate(markers) if j != i)
                for i, s in enumerate(sessions))
    own = sum(squash(markers[i]) in s["text"] for i, s in enumerate(sessions))
    return {"seconds": [s["seconds"] for s in sessions], "cpu_per_view_s": round((cpu1 - cpu0) / len(urls), 3),
            "browser_cpu_per_view_s": round(client / len(urls), 3),
            "rss_mb": round(server.rss_mb(), 1), "peak_rss_mb": round(max(peak[0], server.rss_mb()), 1),
            "leaks": leaks, "own_marker_seen": own, "batch_wall_s": round(wall, 2),
            "error_sessions": sum(bool(s["errors"]) for s in sessions),
            "errors": [e for s in sessions for e in s["errors"]][:5]}


def summary(seconds: list) -> dict:
    drawn = sorted(s for s in seconds if s is not None)
    if not drawn:
        return {"median_s": None, "p90_s": None, "max_s": None, "timeouts": len(seconds)}
    p90 = drawn[min(len(drawn) - 1, max(0, -(-9 * len(drawn) // 10) - 1))]  # nearest rank
    return {"median_s": round(statistics.median(drawn), 2), "p90_s": round(p90, 2), "max_s": round(drawn[-1], 2),
            "timeouts": len(seconds) - len(drawn)}


class Counter:
    """Sentence numbers, new for every session of the run (so no analysis is cached yet)."""

    def __init__(self) -> None:
        self.value = 0

    def take(self, n: int) -> list[int]:
        self.value += n
        return list(range(self.value - n, self.value))


async def warm(browser, server: Server, counter: Counter) -> None:
    """Load both bundled models and open every page once (imports, first figure of each kind)."""
    await batch(browser, server, [link(server, "home", sentence(900), ENCODER)], ["-"])
    for stem in PAGES:
        index = counter.take(1)[0]
        await batch(browser, server, [link(server, stem, sentence(index, marker(index)))], [marker(index)])


async def classroom(pages: list[str], counts: list[int], tree: Path = ROOT) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": os.getloadavg(), "cpus": os.cpu_count(),
              "model": MODEL, "batch_limit_s": BATCH_S, "tree": str(tree), "commit": commit(tree), "rows": []}
    counter = Counter()
    with Server(RESULTS / "class_server.log", cwd=tree) as server:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            await warm(browser, server, counter)
            result["rss_mb_warm"] = round(server.rss_mb(), 1)
            for n in counts:
                for stem in pages:
                    indices = counter.take(n)
                    markers = [marker(i) for i in indices]
                    urls = [link(server, stem, sentence(i, marker(i))) for i in indices]
                    row = {"page": stem, "sessions": n, **await batch(browser, server, urls, markers)}
                    row.update(summary(row["seconds"]))
                    print(json.dumps({k: v for k, v in row.items() if k != "seconds"}), flush=True)
                    result["rows"].append(row)
            await browser.close()
    result["loadavg_end"] = os.getloadavg()
    result["server_tracebacks"] = (RESULTS / "class_server.log").read_text().count("Traceback")
    result["ratios"] = ratios(result["rows"])
    return result


def commit(tree: Path) -> str:
    """The tree's commit: git's HEAD, or the name of an archive copy (written there as COMMIT)."""
    stamp = tree / "COMMIT"
    if stamp.exists():
        return stamp.read_text().strip() + " (archive copy)"
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() + " (working tree, uncommitted edits included)"


def ratios(rows: list[dict]) -> list[dict]:
    """Per page: p90 with 10 sessions ÷ the single-session time, and whether all 30 were drawn within 60 s."""
    out = []
    for stem in dict.fromkeys(r["page"] for r in rows):
        by_n = {r["sessions"]: r for r in rows if r["page"] == stem}
        one, ten, thirty = by_n.get(1), by_n.get(10), by_n.get(30)
        ratio = (round(ten["p90_s"] / one["median_s"], 1)
                 if one and ten and one["median_s"] and ten["p90_s"] is not None else None)
        all_drawn = (thirty["timeouts"] == 0 and thirty["max_s"] <= ALL_DRAWN_S) if thirty else None
        out.append({"page": stem, "p90_10_over_1": ratio, "ratio_ok": None if ratio is None else ratio <= RATIO_TARGET,
                    "all_30_within_60_s": all_drawn, "max_30_s": thirty["max_s"] if thirty else None})
    return out


def cell(value, digits: int = 2) -> str:
    return "–" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))


def markdown(result: dict) -> str:
    lines = [f"Class benchmark {result['date']}, app at {result['commit']}, {result['cpus']} cores, load average "
             f"{result['loadavg_start'][0]:.1f} at start, {result['loadavg_end'][0]:.1f} at end; "
             f"model {result['model']}, "
             f"server RSS after warm-up {result['rss_mb_warm']:.0f} MB; MB = 10^6 bytes.", "",
             "| page | sessions | median s | p90 s | max s | timeouts (> 120 s) | server CPU s / view "
             "| Chromium CPU s / view | RSS MB after | peak RSS MB | leaks | own text seen | sessions with errors |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['page']} | {r['sessions']} | {cell(r['median_s'])} | {cell(r['p90_s'])} | {cell(r['max_s'])} | "
              f"{r['timeouts']} | {r['cpu_per_view_s']:.2f} | {r['browser_cpu_per_view_s']:.2f} | "
              f"{r['rss_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['leaks']} | {r['own_marker_seen']}/{r['sessions']} | "
              f"{r.get('error_sessions', '?')} |"
              for r in result["rows"]]
    lines += ["", f"| page | p90(10) / median(1) (target ≤ {RATIO_TARGET:.0f}) | 30 all drawn within "
              f"{ALL_DRAWN_S:.0f} s | slowest of 30 s |", "|---|---|---|---|"]
    verdict = {True: " (ok)", False: " (over)", None: ""}
    lines += [f"| {r['page']} | {cell(r['p90_10_over_1'], 1)}{verdict[r['ratio_ok']]} | "
              f"{cell(r['all_30_within_60_s'])} | {cell(r['max_30_s'])} |" for r in result["ratios"]]
    return "\n".join(lines) + "\n"
