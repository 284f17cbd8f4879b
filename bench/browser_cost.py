"""What Chromium spends on one page view, and on what (issue 13: the browser's side of the class table).

One server (`streamlit run app.py`, loopback, HF_HUB_OFFLINE=1), one headless Debian Chromium (Playwright,
--no-sandbox). Per page, in a fresh browser context:

- `short`: the page opened by link with a new 9-word sentence (bundled decoder), as a student does in the class run;
- `long`: then, in the same tab, a new ~506-token text typed into the sidebar and Ctrl+Enter (a new text for every
  page, so the forward pass is in every window).

Each window ends at the first moment the page is drawn (browser_views.DRAWN_JS plus the app's script state idle),
checked inside the page by `wait_for_function` every 50 ms, so the harness adds no round trips of its own. Then
1.5 s to settle (outside the window; its CPU is reported apart). Measured per window:
- CPU seconds per Chromium process kind (browser, renderer, gpu, utility; /proc utime+stime) and of the server;
- the renderer's main thread from CDP `Performance.getMetrics` (script, layout, style, task durations) and a CDP
  `Profiler` sample (1 ms) summed by script file (plotly's chunk, Streamlit's, the data grid's) and by function;
- websocket bytes received (MB = 10^6 bytes);
- a census of what is drawn: per plotly chart its traces, the JSON size of its data and layout, cells of its heat
  maps and the length of per-point text/customdata, SVG nodes; st.dataframe grids; iframes and their srcdoc size.

`cd bench && HF_HUB_OFFLINE=1 PYTHONPATH=.. ../.venv/bin/python browser_cost.py [--pages a,b] [--modes short,long]
[--shots DIR]` writes results/browser_cost.json and .md (and, with --shots, a 1400 × 3000 screenshot per view).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

from browser_views import DRAWN_JS, PAGES, ROOT, Server, launch, page_url, sentence, tree_cpu
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_support import IDLE_SCRIPT  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "bundled:smollm2"
LONG_TOKENS = 506
TIMEOUT_MS = 180_000
SETTLE_S = 1.5
ARM_JS = """() => { window.__reran = false; const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver((_, watcher) => { window.__reran = true; watcher.disconnect(); })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
READY_JS = f"""() => window.__reran !== false && ({IDLE_SCRIPT})() && ({DRAWN_JS})()"""
CENSUS_JS = """() => {
  const size = (value) => { try { return JSON.stringify(value).length; } catch (e) { return -1; } };
  const cells = (z) => Array.isArray(z) ? z.reduce((n, row) => n + (Array.isArray(row) ? row.length : 1), 0)
                                        : (z && z.length) || 0;
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd) => ({
    title: ((gd.layout && gd.layout.title && (gd.layout.title.text || gd.layout.title)) || '').toString().slice(0, 60),
    traces: (gd.data || []).map((t) => ({type: t.type || 'scatter', points: cells(t.z || t.x || []),
      text: cells(t.text || []), customdata: cells(t.customdata || [])})),
    data_chars: size(gd.data), layout_chars: size(gd.layout), svg_nodes: gd.querySelectorAll('*').length,
    visible: gd.offsetParent !== null, top: Math.round(gd.getBoundingClientRect().top)}));
  const frames = Array.from(document.querySelectorAll('iframe')).map((f) => ({
    srcdoc_chars: (f.srcdoc || '').length,
    nodes: (() => { try { return f.contentDocument.querySelectorAll('*').length; } catch (e) { return -1; } })()}));
  return {charts, frames, dataframes: document.querySelectorAll('[data-testid="stDataFrame"]').length,
          dom_nodes: document.querySelectorAll('*').length,
          main_height: document.querySelector('[data-testid="stMain"]')?.scrollHeight || 0};
}"""
METRICS = ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration", "JSHeapUsedSize", "Nodes")


def process_kind(pid: int) -> str | None:
    try:
        # Chromium's zygote children rewrite their title: one string, arguments split by spaces
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return None
    if not argv:
        return None
    name = Path(argv[0].decode(errors="replace")).name
    if "chrom" not in name:
        return "driver" if name.startswith("node") else None
    for arg in argv:
        if arg.startswith(b"--type="):
            return arg[7:].decode()
    return "browser"


def client_cpu(skip: int) -> dict[str, float]:
    """CPU seconds (utime+stime, children reaped included) per process kind, for every process under this one
    except the server's tree `skip`."""
    totals: dict[str, float] = collections.defaultdict(float)
    for pid, seconds in tree_cpu(os.getpid(), skip).items():
        kind = process_kind(pid)
        if kind:
            totals[kind] += seconds
    return dict(totals)


def minus(after: dict, before: dict) -> dict:
    return {k: round(after.get(k, 0.0) - before.get(k, 0.0), 3) for k in sorted(set(after) | set(before))}


def profile_summary(profile: dict, top: int = 12) -> dict:
    """Self time (ms) of a CDP CPU profile by script file and by function (file:function)."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us: dict[int, float] = collections.defaultdict(float)
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
        self_us[node_id] += delta
    by_file: dict[str, float] = collections.defaultdict(float)
    by_function: dict[str, float] = collections.defaultdict(float)
    for node_id, micros in self_us.items():
        frame = nodes[node_id]["callFrame"]
        url = frame.get("url", "")
        file = url.rsplit("/", 1)[-1].split("?")[0] or frame["functionName"] or "(anonymous)"
        by_file[file.split(".")[0] if "." in file else file] += micros / 1000
        by_function[f"{file}:{frame['functionName'] or '(anon)'}:{frame.get('lineNumber', 0)}"] += micros / 1000
    ordered = lambda table: dict(sorted(((k, round(v)) for k, v in table.items()), key=lambda kv: -kv[1])[:top])  # noqa: E731
    return {"by_file_ms": ordered(by_file), "by_function_ms": ordered(by_function)}


class Window:
    """One timed window: CPU per process kind, server CPU, renderer metrics and a JS profile, websocket bytes."""

    def __init__(self, page, cdp, server: Server, received: list):
        self.page, self.cdp, self.server, self.received = page, cdp, server, received

    def __enter__(self) -> Window:
        self.cdp.send("Profiler.start")
        self.metrics0 = self.metrics()
        self.client0, self.server0, self.bytes0 = client_cpu(self.server.pid), self.server.cpu(), self.received[0]
        self.started = time.monotonic()
        return self

    def metrics(self) -> dict:
        return {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}

    def wait(self) -> dict:
        self.page.wait_for_function(READY_JS, polling=50, timeout=TIMEOUT_MS)
        seconds = time.monotonic() - self.started
        client, server_cpu = client_cpu(self.server.pid), self.server.cpu()
        metrics = self.metrics()
        profile = self.cdp.send("Profiler.stop")["profile"]
        time.sleep(SETTLE_S)
        settle = minus(client_cpu(self.server.pid), client)
        return {"seconds": round(seconds, 3), "cpu": minus(client, self.client0),
                "server_cpu_s": round(server_cpu - self.server0, 3), "settle_cpu": settle,
                "ws_MB": round((self.received[0] - self.bytes0) / 1e6, 3),
                "main_thread_s": {k[:-8]: round(metrics[k] - self.metrics0.get(k, 0), 3)
                                  for k in METRICS if k.endswith("Duration")},
                "js_heap_MB": round(metrics["JSHeapUsedSize"] / 1e6, 1), "nodes": int(metrics["Nodes"]),
                **profile_summary(profile), "census": self.page.evaluate(CENSUS_JS)}

    def __exit__(self, *exc) -> None:
        pass


def long_text(index: int) -> str:
    """A new ~LONG_TOKENS-token decoder text: a numbered opening and the seed sentences after it."""
    from inputs import text_of_tokens

    from viz.model import load_model, resolve_model

    tokenizer = load_model(resolve_model(MODEL)).tokenizer
    head = f"Text number {index}, about {sentence(index).lower()}"
    tail = text_of_tokens(tokenizer, LONG_TOKENS - len(tokenizer(head)["input_ids"]))
    return f"{head} {tail}"


def shoot(page, path: Path) -> None:
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 1000})


def one_page(browser, server: Server, stem: str, index: int, modes: list[str], shots: Path | None) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    received = [0]
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload))))
    page.goto(f"{server.url}/_stcore/health")  # same site first: the CDP session stays on the page's renderer
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 1000})
    row = {"page": stem}
    with Window(page, cdp, server, received) as window:
        page.evaluate("() => { window.__reran = true; }")
        page.goto(page_url(server, stem, urllib.parse.urlencode({"model": MODEL, "text": sentence(index)})),
                  wait_until="commit")
        row["short"] = window.wait()
    if shots:
        shoot(page, shots / f"{stem}-short.png")
    if "long" in modes:
        text = long_text(index)
        area = page.get_by_label("Text", exact=True)
        area.fill(text)
        page.evaluate(ARM_JS)
        with Window(page, cdp, server, received) as window:
            area.press("Control+Enter")
            row["long"] = window.wait()
        if shots:
            shoot(page, shots / f"{stem}-long.png")
    context.close()
    print(json.dumps(summary_row(row)), flush=True)
    return row


def summary_row(row: dict) -> dict:
    out = {"page": row["page"]}
    for mode in ("short", "long"):
        if mode in row:
            r = row[mode]
            out[mode] = {"s": r["seconds"], "chromium_cpu": round(sum(v for k, v in r["cpu"].items()
                                                                      if k != "driver"), 2),
                         "cpu": r["cpu"], "server": r["server_cpu_s"], "main": r["main_thread_s"],
                         "ws_MB": r["ws_MB"], "files": r["by_file_ms"],
                         "charts": [(c["title"][:30], c["data_chars"], c["svg_nodes"]) for c in r["census"]["charts"]]}
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["| page | mode | seconds | Chromium CPU s (renderer / browser / gpu / other) | server CPU s | "
             "main thread s: script / layout / style / task | ws MB | charts (data MB) | JS self ms by file (top 3) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for mode in ("short", "long"):
            if mode not in row:
                continue
            r, cpu = row[mode], row[mode]["cpu"]
            other = sum(v for k, v in cpu.items() if k not in ("renderer", "browser", "gpu-process", "driver"))
            chromium = sum(v for k, v in cpu.items() if k != "driver")
            main = r["main_thread_s"]
            charts = r["census"]["charts"]
            data_mb = sum(c["data_chars"] + c["layout_chars"] for c in charts) / 1e6
            top = ", ".join(f"{k} {v}" for k, v in list(r["by_file_ms"].items())[:3])
            lines.append(f"| {row['page']} | {mode} | {r['seconds']} | {chromium:.2f} ({cpu.get('renderer', 0):.2f} / "
                         f"{cpu.get('browser', 0):.2f} / {cpu.get('gpu-process', 0):.2f} / {other:.2f}) | "
                         f"{r['server_cpu_s']} | {main['Script']} / {main['Layout']} / {main['RecalcStyle']} / "
                         f"{main['Task']} | {r['ws_MB']} | {len(charts)} ({data_mb:.2f}) | {top} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--modes", default="short,long")
    parser.add_argument("--shots", default="")
    parser.add_argument("--out", default="browser_cost")
    parser.add_argument("--tree", default=str(ROOT), help="the app's folder (e.g. a copy with other figure code)")
    args = parser.parse_args()
    shots = Path(args.shots) if args.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    modes = args.modes.split(",")
    tree = Path(args.tree)
    with Server(RESULTS / f"{args.out}_server.log", cwd=tree, env={"PYTHONPATH": str(tree)}) as server, \
            sync_playwright() as playwright:
        browser = launch(playwright)
        one_page(browser, server, "home", 1500, ["short"], None)  # warm: the model loaded, Streamlit's files read
        rows = [one_page(browser, server, stem, 1510 + i, modes, shots)
                for i, stem in enumerate(args.pages.split(","))]
        browser.close()
    load = os.getloadavg()
    data = {"date": time.strftime("%Y-%m-%d %H:%M"), "load": load, "rows": rows}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(data, indent=1))
    (RESULTS / f"{args.out}.md").write_text(f"{data['date']}, load average {load[0]:.1f}\n\n" + markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
