"""Server memory for the README's claim and issue 13's target, on its own fresh server (MB = 10^6 bytes).

1. Both bundled models loaded (encoder home page, then each decoder page once), then 10 browser sessions at once on
   the decoder pages (attention, next_token, qkv in turn), each with its own new sentence: RSS after and peak.
2. A ~512-token text (the seed sentences, cut to 512 tokens by each model's tokenizer) on every page with both
   models, one page after the other: RSS after each page and at the end (target ≤ 2 GB = 2,000 MB).
Peaks are the kernel's (VmHWM: the most the server ever held), which 0.2 s RSS samples can miss.

Part 2 alone, on its own fresh server: `cd bench && PYTHONPATH=.. ../.venv/bin/python class_memory.py [--tree DIR]`
(writes results/class_memory_long.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from browser_views import PAGES, ROOT, Server, launch, sentence
from class_times import DECODER_PAGES, ENCODER, MODEL, RESULTS, batch, link, marker, summary
from inputs import text_of_tokens
from playwright.async_api import async_playwright

LONG_TOKENS, LONG_LIMIT_S, TARGET_MB = 512, 240.0, 2000.0


def long_text(key: str) -> tuple[str, int]:
    """A text of about LONG_TOKENS tokens for this model, and its real token count (as the app cuts it)."""
    from viz.model import load_model, resolve_model

    tokenizer = load_model(resolve_model(key)).tokenizer
    text = text_of_tokens(tokenizer, LONG_TOKENS)
    return text, min(len(tokenizer(text)["input_ids"]), LONG_TOKENS)


async def ten_on_decoder_pages(browser, server: Server) -> dict:
    await batch(browser, server, [link(server, "home", sentence(700), ENCODER)], ["-"])
    for number, stem in enumerate(DECODER_PAGES):
        await batch(browser, server, [link(server, stem, sentence(710 + number))], ["-"])
    both = server.rss_mb()
    indices = range(800, 810)
    urls = [link(server, DECODER_PAGES[i % 3], sentence(i, marker(i))) for i in indices]
    row = await batch(browser, server, urls, [marker(i) for i in indices])
    return {"rss_mb_both_models": round(both, 1), **row, **summary(row["seconds"])}


def peak_mb(server: Server) -> float:
    """The most the server has held since it started (VmHWM), in MB (10^6 bytes)."""
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


async def long_texts(browser, server: Server) -> list[dict]:
    rows = []
    for key in (ENCODER, MODEL):
        text, tokens = long_text(key)
        for stem in PAGES:
            cpu = server.cpu()
            row = await batch(browser, server, [link(server, stem, text, key)], ["-"], limit_s=LONG_LIMIT_S)
            rows.append({"model": key, "tokens": tokens, "page": stem, "seconds": row["seconds"][0],
                         "server_cpu_s": round(server.cpu() - cpu, 2), "rss_mb": row["rss_mb"],
                         "peak_rss_mb": round(max(row["peak_rss_mb"], peak_mb(server)), 1), "errors": row["errors"]})
            print(rows[-1], flush=True)
    return rows


async def memory(tree: Path) -> dict:
    with Server(RESULTS / "class_memory_server.log", cwd=tree) as server:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            ten = await ten_on_decoder_pages(browser, server)
            ten["peak_rss_mb"] = round(max(ten["peak_rss_mb"], peak_mb(server)), 1)
            print({k: v for k, v in ten.items() if k != "seconds"}, flush=True)
            long = await long_texts(browser, server)
            await browser.close()
        end = server.rss_mb()
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "ten_sessions": ten, "long": long,
            "rss_mb_end": round(end, 1), "peak_rss_mb": max([ten["peak_rss_mb"]] + [r["peak_rss_mb"] for r in long])}


def markdown(data: dict) -> str:
    ten = data["ten_sessions"]
    lines = ["| memory (one fresh server, MB = 10^6 bytes) | RSS MB |", "|---|---|",
             f"| both bundled models loaded | {ten['rss_mb_both_models']:.0f} |",
             f"| + 10 sessions at once on attention / next_token / qkv (after; peak) | {ten['rss_mb']:.0f}; "
             f"{ten['peak_rss_mb']:.0f} (leaks {ten['leaks']}, p90 {ten['p90_s']} s, timeouts {ten['timeouts']}) |"]
    lines += [f"| + {r['model']} {r['tokens']} tokens, {r['page']} (drawn in {r['seconds']} s) | {r['rss_mb']:.0f} |"
              for r in data["long"]]
    verdict = "within" if data["peak_rss_mb"] <= TARGET_MB else "over"
    lines.append(f"| end (peak over the whole run: {data['peak_rss_mb']:.0f}, {verdict} the 2,000 MB target) | "
                 f"{data['rss_mb_end']:.0f} |")
    return "\n".join(lines) + "\n"


async def long_only(tree: Path) -> dict:
    """Part 2 alone: a ~512-token text on every page with both models, on its own fresh server."""
    with Server(RESULTS / "class_memory_server.log", cwd=tree) as server:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            long = await long_texts(browser, server)
            await browser.close()
        end = server.rss_mb()
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "long": long, "rss_mb_end": round(end, 1),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in long)}


def main() -> None:
    parser = argparse.ArgumentParser(description="Server memory at ~512 tokens on every page (part 2 alone).")
    parser.add_argument("--tree", type=Path, default=ROOT, help="folder the server runs the app from")
    args = parser.parse_args()
    result = asyncio.run(long_only(args.tree.resolve()))
    (RESULTS / "class_memory_long.json").write_text(json.dumps(result, indent=1))
    for row in result["long"]:
        print(f"{row['model']} {row['tokens']} {row['page']}: {row['rss_mb']:.0f} MB after, peak so far "
              f"{row['peak_rss_mb']:.0f} MB, server CPU {row['server_cpu_s']} s, drawn in {row['seconds']} s")
    print(f"end {result['rss_mb_end']:.0f} MB; peak {result['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
