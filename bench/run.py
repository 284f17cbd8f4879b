"""`make bench`: the app against its floor (bare forward pass) and its baseline (raw BertViz), into bench/results/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import browser_times
import class_run
import model_times
import plotly.graph_objects as go
from playwright.sync_api import sync_playwright
from plotly.subplots import make_subplots

RESULTS = Path(__file__).resolve().parent / "results"


def fmt(value, digits: int = 2) -> str:
    return "did not finish in 60 s" if value is None else f"{value:.{digits}f}"


def build_cell(row: dict) -> str:
    seconds = row["build_s"]
    if seconds is not None and seconds > model_times.BERTVIZ_TIMEOUT:
        return f"did not finish in 60 s ({seconds:.0f} s)"
    return fmt(seconds)


def draw_cell(row: dict) -> str:
    if row.get("draw_s") is None and (row.get("html_MB") or 0) > model_times.SAVE_LIMIT_MB:
        return f"not tried: over {model_times.SAVE_LIMIT_MB} MB of HTML"
    return fmt(row.get("draw_s"))


def markdown(model_rows, page_rows, bertviz_rows, cold_rows, app_bertviz_rows=()) -> str:
    lines = ["| model | tokens | forward s (floor) | app analysis s | analysis MB |", "|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['tokens']} | {fmt(r['forward_s'], 3)} | {fmt(r['analysis_s'], 3)} | "
              f"{fmt(r['analysis_MB'], 1)} |" for r in model_rows]
    lines += ["", "| model | tokens | page | Enter → drawn s | websocket MB |", "|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['tokens']} | {r['page']} | {fmt(r['enter_to_drawn_s'])} | {fmt(r['ws_MB'])} |"
              for r in page_rows]
    lines += ["", "| model | tokens | raw BertViz view | HTML MB | build s | Chromium draw s |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['tokens']} | {r['view']} | {fmt(r['html_MB'], 1)} | {build_cell(r)} | "
              f"{draw_cell(r)} |" for r in bertviz_rows]
    lines += ["", "| model | tokens | app's BertViz view | HTML MB | page load → SVG drawn in its iframe s |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['tokens']} | {r['view']} | {fmt(r['html_MB'])} | {fmt(r['load_to_svg_s'])} |"
              for r in app_bertviz_rows]
    lines += ["", "| converted-model cache | process start → first page s | → decoder page drawn s |", "|---|---|---|"]
    lines += [f"| {r['cache']} | {fmt(r['first_page_s'])} | {fmt(r['decoder_ready_s'])} |" for r in cold_rows]
    return "\n".join(lines) + "\n"


def chart(model_rows, page_rows, bertviz_rows) -> go.Figure:
    figure = make_subplots(rows=1, cols=2, subplot_titles=("seconds", "bytes sent to the browser (MB)"))
    for model in model_times.MODELS:
        rows = [r for r in model_rows if r["model"] == model]
        figure.add_scatter(x=[r["tokens"] for r in rows], y=[r["forward_s"] for r in rows], name=f"{model} forward",
                           row=1, col=1)
        pages = [r for r in page_rows if r["model"] == model and r["page"] == "attention"]
        figure.add_scatter(x=[r["tokens"] for r in pages], y=[r["enter_to_drawn_s"] for r in pages],
                           name=f"{model} attention page, Enter→drawn", row=1, col=1)
        figure.add_scatter(x=[r["tokens"] for r in pages], y=[r["ws_MB"] for r in pages],
                           name=f"{model} attention page MB", row=1, col=2)
        views = [r for r in bertviz_rows if r["model"] == model and r["view"] == "head_view"]
        figure.add_scatter(x=[r["tokens"] for r in views], y=[r["html_MB"] for r in views],
                           name=f"{model} raw BertViz head_view MB", row=1, col=2)
    figure.update_xaxes(title="tokens", type="log")
    figure.update_yaxes(type="log")
    return figure


def main() -> None:
    if "--table-only" in sys.argv:  # rebuild results.md from results.json
        data = json.loads((RESULTS / "results.json").read_text())
        (RESULTS / "results.md").write_text(markdown(data["model"], data["pages"], data["bertviz"], data["cold_start"],
                                                     data.get("app_bertviz", ())))
        return
    if "--draw-only" in sys.argv:  # redo only the Chromium draw of the raw BertViz files already written
        data = json.loads((RESULTS / "results.json").read_text())
        for row in data["bertviz"]:
            path = RESULTS / "bertviz_html" / f"bertviz_{row['model'].split(':')[1]}_{row['tokens']}_{row['view']}.html"
            row["file"] = path if path.exists() else None
        with sync_playwright() as playwright:
            browser_times.bertviz_draw(playwright, data["bertviz"], asset_routes())
        for row in data["bertviz"]:
            row.pop("file", None)
        (RESULTS / "results.json").write_text(json.dumps(data, indent=1))
        (RESULTS / "results.md").write_text(markdown(data["model"], data["pages"], data["bertviz"], data["cold_start"],
                                                     data.get("app_bertviz", ())))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    html_dir = RESULTS / "bertviz_html"
    html_dir.mkdir(exist_ok=True)
    model_rows = model_times.forward_and_analysis()
    bertviz_rows = model_times.bertviz_baseline(html_dir)
    with sync_playwright() as playwright:
        with browser_times.Server(RESULTS / "bench_server.log") as server:
            page_rows = browser_times.enter_to_drawn(playwright, server)
            app_bertviz_rows = browser_times.app_bertviz_draw(playwright, server)
        cold_rows = browser_times.cold_start(playwright)
        browser_times.bertviz_draw(playwright, bertviz_rows, asset_routes())
    for row in bertviz_rows:
        row.pop("file", None)
    (RESULTS / "results.json").write_text(json.dumps(
        {"model": model_rows, "pages": page_rows, "bertviz": bertviz_rows, "app_bertviz": app_bertviz_rows,
         "cold_start": cold_rows}, indent=1))
    (RESULTS / "results.md").write_text(markdown(model_rows, page_rows, bertviz_rows, cold_rows, app_bertviz_rows))
    chart(model_rows, page_rows, bertviz_rows).write_html(RESULTS / "chart.html", include_plotlyjs=True)
    print((RESULTS / "results.md").read_text())
    class_run.run()  # the class table and the memory figures: results/class.md, class.json


def asset_routes() -> dict[str, Path]:
    """CDN URLs that raw BertViz HTML asks for, mapped to the locally installed copies the app serves."""
    try:
        from viz.bertviz_view import local_asset_paths
    except ImportError:
        return {}
    return local_asset_paths()


if __name__ == "__main__":
    sys.exit(main())
