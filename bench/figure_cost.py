"""What one figure costs the browser, builder by builder, without the app around it (issue 13, browser side).

Each figure builder of viz/figures is fed synthetic arrays of the shapes the pages give it (bundled decoder:
30 layers, 9 heads, width 576, head width 64) at ~10 and ~506 tokens. Its JSON (`figure.to_json()`, numpy arrays
as plotly's base64 typed arrays, as Streamlit sends them) is drawn in a blank page of Debian's Chromium (headless,
--no-sandbox) with plotly.js from the plotly package (v4, the major version in Streamlit's own chunk), at 1,300 px
wide. Per figure: JSON bytes (MB = 10^6 bytes), then the draw time (`Plotly.newPlot` until two animation frames
later, so layout and paint are in) and the renderer's main-thread task time (CDP Performance.getMetrics
TaskDuration), each the smallest of REPEATS draws into a fresh div.

`cd bench && HF_HUB_OFFLINE=1 PYTHONPATH=.. ../.venv/bin/python figure_cost.py [--only name,name] [--shots DIR]`
prints a markdown table (and with --shots saves each drawn figure as a PNG for a look).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import plotly
from browser_views import launch
from playwright.sync_api import sync_playwright

from viz.figures import attention, next_token, projection, qkv, similarity, tokens
from viz.sampling import distribution

REPEATS = int(os.environ.get("REPEATS", "3"))
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
DRAW_JS = """async (spec) => {
  const div = document.createElement('div'); div.style.width = '1300px'; document.body.replaceChildren(div);
  const figure = JSON.parse(spec);
  const started = performance.now();
  await Plotly.newPlot(div, figure.data, figure.layout, {displaylogo: false});
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - started;
}"""
LAYERS, HEADS, WIDTH, HEAD_WIDTH = 30, 9, 576, 64


def words(n: int) -> list[str]:
    base = ["<|im_start|>", "The", " quiet", " teacher", " near", " the", " harbour", " painted", " every", " morning"]
    return [base[i % len(base)] if i < len(base) else f" word{i}" for i in range(n)]


def attention_rows(rng, n: int, rows: int | None = None) -> np.ndarray:
    weights = rng.random((rows or n, n)).astype(np.float32) ** 8
    return weights / weights.sum(-1, keepdims=True)


def cases(n: int) -> dict:
    """{name: figure} for every builder worth timing, at n tokens."""
    rng = np.random.default_rng(0)
    names = words(n)
    dist = distribution(rng.normal(size=49152).astype(np.float32) * 3, temperature=1.0, top_k=50, top_p=0.9)
    shown = np.argsort(-dist.probabilities)[:10]
    coords = rng.normal(size=(LAYERS + 1, n + 12, 2))
    group = np.array(["text"] * n + ["other"] * 12)
    return {
        "attention_heatmap": attention.attention_heatmap(weights=attention_rows(rng, n), tokens=names,
                                                         title="Layer 2, head 0", causal=True),
        "head_overview": attention.head_overview(thumbnails=rng.random((LAYERS, HEADS, 24, 24)), layer=2, head=0,
                                                 n_tokens=n),
        "referent_layers": attention.referent_layers(weights=attention_rows(rng, n, LAYERS), tokens=names,
                                                     query=n - 1, layer=2, causal=True),
        "dense_rows": tokens.dense_rows_figure(tokens=names, rows=rng.normal(size=(n, WIDTH)).astype(np.float32),
                                               title="Dense"),
        "vector_bars": tokens.vector_bars(vector=rng.normal(size=WIDTH), title="one row"),
        "one_hot": tokens.one_hot_figure(tokens=names, token_ids=rng.integers(0, 49152, n), vocab_size=49152),
        "cosine_heatmap": similarity.cosine_heatmap(matrix=rng.random((n, n)), row_tokens=names, col_tokens=names,
                                                    title="S1 × S1"),
        "vector_strips": qkv.vector_strips(vectors=rng.normal(size=(min(n, 11), HEAD_WIDTH)),
                                           labels=names[:11], title="keys"),
        "head_grid": qkv.head_grid(rows=attention_rows(rng, n, HEADS), tokens=names,
                                   head_labels=[f"head {h}" for h in range(HEADS)], selected=0, query_label="x"),
        "position_heatmap": qkv.position_heatmap(table=np.sin(rng.normal(size=(512, WIDTH // 2))),
                                                 title="dimensions 2i: sin"),
        "probability_bars": next_token.probability_bars(dist, token_ids=shown, labels=[f" t{i}" for i in shown],
                                                        top_k=50, top_p=0.9),
        "token_cells": next_token.token_cells(labels=names[-96:], values=rng.random(min(n, 96)),
                                              value_name="weight", title="attention"),
        "logit_lens": next_token.logit_lens_grid(top_labels=[names[:10]] * (LAYERS + 1),
                                                 top_probabilities=rng.random((LAYERS + 1, 10)),
                                                 input_labels=names[:10], positions=list(range(10))),
        "projection": projection.projection_figure(coords=coords, explained=np.full((LAYERS + 1, 2), 0.2),
                                                   group=group, highlight=np.arange(n + 12) % 50 == 0,
                                                   hover=[f"point {i}" for i in range(n + 12)],
                                                   text=[f"p{i}" for i in range(n + 12)], title="PCA"),
    }


def measure(page, cdp, spec: str) -> dict:
    drawn, tasks = [], []
    for _ in range(REPEATS):
        before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        drawn.append(page.evaluate(DRAW_JS, spec))
        after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        tasks.append(after["TaskDuration"] - before["TaskDuration"])
    return {"json_MB": round(len(spec) / 1e6, 3), "draw_ms": round(min(drawn)), "task_ms": round(1000 * min(tasks))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--sizes", default="10,506")
    parser.add_argument("--shots", default="")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    rows = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(PLOTLY_JS))
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        for n in map(int, args.sizes.split(",")):
            for name, figure in cases(n).items():
                if only and name not in only:
                    continue
                row = {"figure": name, "tokens": n, **measure(page, cdp, figure.to_json())}
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.shots:
                    Path(args.shots).mkdir(parents=True, exist_ok=True)
                    page.locator("div").first.screenshot(path=f"{args.shots}/{name}-{n}.png")
        browser.close()
    print("| figure | tokens | JSON MB | draw ms | main-thread task ms |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['figure']} | {row['tokens']} | {row['json_MB']} | {row['draw_ms']} | {row['task_ms']} |")


if __name__ == "__main__":
    sys.exit(main())
