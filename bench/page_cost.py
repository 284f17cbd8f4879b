"""Server-side cost of one page view (issue 13, "serve a whole class"): server CPU and wall seconds per page.

For every page (home, tokens, attention, qkv, similarity, projection, next_token) and the bundled decoder
(`?model=bundled:smollm2&text=<a 9-word sentence>`), with a NEW sentence per view (its analysis is not cached
yet; the model is, because the server is first warmed with one view of each page on another sentence):

  cpu_first_s   server CPU seconds (utime+stime of the server process, all threads, from /proc/<pid>/stat)
                for one new browser session opening the page by link, until the page is idle
  wall_first_s  wall seconds from opening the link to the page idle
  cpu_slider_s  server CPU seconds for the rerun caused by moving one slider of the page by one step
                (keyboard: ArrowRight on the slider's thumb; the layer slider when there is one); wall_slider_s
                and the websocket bytes the browser received are recorded too

With --warm-context each view's browser context first opens the same page with another new sentence (untimed), so
the timed view is a new Streamlit session in a browser that has Streamlit's static files cached: the page's own
server cost (script run, session start, websocket) without static-file serving. --server-env NAME=VALUE sets an
environment variable for the server (e.g. OMP_WAIT_POLICY=ACTIVE to compare thread policies).

"Idle" means the page is idle and its last chart drawn, as browser_views.DRAWN_JS defines it (no script running,
no stale element, every visible plotly chart with its SVG, the BertViz iframe with its SVG). The end of a timed
window is the moment that was first seen (polled every 50 ms); the stability check runs after it (see
browser_views). Timed windows contain only the view or the rerun, no settling sleeps. CPU is read at the same
moment as the end of the wall window.

Optionally (--profile-pages) the server is then sampled with py-spy (`record --format raw`, 100 Hz, attached
by pid) while --profile-views further new-sentence views of each listed page are opened; the collapsed stacks
are written next to the JSON and summarised as top self-time functions and top inclusive project functions.

Usage (from bench/, one server and one headless Chromium at a time, loopback only):
  PYTHONPATH=.. ../.venv/bin/python page_cost.py --label after \
      --server-cmd "../.venv/bin/python -m streamlit run app.py --server.port {port} \
                    --server.address 127.0.0.1 --server.headless true" --cwd .. [--profile-pages attention,qkv]
  PYTHONPATH=.. ../.venv/bin/python page_cost.py --report results/page_cost_before.json \
      results/page_cost_after.json            # prints the markdown tables
{port} in --server-cmd is replaced by a free loopback port.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from browser_views import PAGES, SERVER_CMD, Server, launch, new_session, page_url, sentence, slider_rerun, wait_drawn
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
MODEL = "bundled:smollm2"
COUNTS_JS = """() => {
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const q = (sel) => main ? main.querySelectorAll(sel).length : 0;
  return {plotly: q('[data-testid="stPlotlyChart"]'), iframes: q('iframe'),
          dataframes: q('[data-testid="stDataFrame"]'),
          exceptions: Array.from(main ? main.querySelectorAll('[data-testid="stException"]') : [])
                        .map(e => e.innerText.slice(0, 2000)),
          errors: Array.from(main ? main.querySelectorAll('[data-testid="stAlertContentError"]') : [])
                        .map(e => e.innerText.slice(0, 500))};
}"""


def first_view(browser, server: Server, stem: str, text: str, warm_text: str | None = None) -> tuple:
    """Open the page by link in a new browser session; returns the row and the open (context, page, bytes).
    With `warm_text` the browser context first opens the page with that text (untimed), so the timed view is a new
    Streamlit session in a browser that has the static files already: the page's own cost, without static serving."""
    context, page, received = new_session(browser)
    if warm_text is not None:
        page.goto(page_url(server, stem, urllib.parse.urlencode({"model": MODEL, "text": warm_text})),
                  wait_until="commit")
        wait_drawn(page, server.pid, time.monotonic())
        received[0] = 0
    query = urllib.parse.urlencode({"model": MODEL, "text": text})
    url = page_url(server, stem, query)
    cpu0, started = server.cpu(), time.monotonic()
    page.goto(url, wait_until="commit")
    ended, cpu1 = wait_drawn(page, server.pid, started)
    counts = page.evaluate(COUNTS_JS)
    row = {"page": stem, "text": text, "cpu_first_s": round(cpu1 - cpu0, 3), "wall_first_s": round(ended - started, 3),
           "ws_first_mb": round(received[0] / 1e6, 3), **counts}
    return row, context, page, received


def measure(browser, server: Server, pages: list[str], first_index: int, with_slider: bool,
            warm_context: bool = False) -> list[dict]:
    rows = []
    for offset, stem in enumerate(pages):
        warm_text = sentence(1500 + (first_index + offset) % 100) if warm_context else None
        row, context, page, received = first_view(browser, server, stem, sentence(first_index + offset), warm_text)
        row["warm_context"] = warm_context
        if with_slider:
            row.update(slider_rerun(page, server, received))
        context.close()
        row["rss_mb"], row["load1"] = round(server.rss_mb(), 1), round(os.getloadavg()[0], 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


# Leaf frames where a thread waits rather than works (py-spy's own idle detection does not catch them here):
# lock/queue waits, the event loop's epoll, the thread pools' queue.get, Streamlit's polling watcher's sleep.
IDLE_LEAVES = {("Condition.wait", "threading.py"), ("_worker", "concurrent/futures/thread.py"),
               ("EpollSelector.select", "selectors.py"), ("WorkerThread.run", "anyio/_backends/_asyncio.py"),
               ("PollingPathWatcher._schedule.<locals>.task", "streamlit/watcher/polling_path_watcher.py"),
               ("Event.wait", "threading.py"), ("Thread._wait_for_tstate_lock", "threading.py")}


def summarise_profile(raw: Path, top: int = 10) -> dict:
    """Top self-time functions and top inclusive functions (active samples only) from py-spy's raw stacks."""
    self_time, inclusive, total, active = collections.Counter(), collections.Counter(), 0, 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        total += count
        frames = []
        for frame in stack.split(";"):
            match = FRAME.match(frame)
            if match:  # thread/process labels do not match and are left out
                file = re.sub(r"^.*/(site-packages|lib/python3\.\d+)/", "", match["file"])
                frames.append((match["func"], file, match["line"]))
        if not frames or frames[-1][:2] in IDLE_LEAVES:
            continue
        active += count
        leaf = frames[-1]
        self_time[f"{leaf[0]} ({leaf[1]}:{leaf[2]})"] += count
        for func, file, _ in set(frames):
            inclusive[f"{func} ({file})"] += count
    share = lambda c: round(100 * c / active, 1) if active else 0.0  # noqa: E731
    return {"samples": total, "active_samples": active, "rate_hz": 100,
            "self": [{"function": f, "samples": c, "percent_of_active": share(c)}
                     for f, c in self_time.most_common(top)],
            "inclusive": [{"function": f, "samples": c, "percent_of_active": share(c)}
                          for f, c in inclusive.most_common(40)]}


def profile(browser, server: Server, pages: list[str], views: int, first_index: int, out_dir: Path,
            label: str, warm_context: bool = False) -> dict:
    py_spy = Path(sys.executable).with_name("py-spy")
    results = {}
    for page_number, stem in enumerate(pages):
        raw = out_dir / f"page_cost_{label}_{stem}.pyspy.txt"
        spy = subprocess.Popen([str(py_spy), "record", "--pid", str(server.pid), "--rate", "100", "--format", "raw",
                                "-o", str(raw)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(2)  # attach before the first view
        if spy.poll() is not None:
            raise RuntimeError(f"py-spy exited: {spy.stdout.read().decode()[-2000:]}")
        rows = measure(browser, server, [stem] * views, first_index + page_number * views, with_slider=True,
                       warm_context=warm_context)
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        results[stem] = {"views": rows, **summarise_profile(raw)}
    return results


def run(args) -> None:
    out_dir = HERE / "results"
    log = out_dir / f"page_cost_{args.label}_server.log"
    result = {"label": args.label, "server_cmd": args.server_cmd, "cwd": str(args.cwd), "model": MODEL,
              "date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": os.getloadavg(),
              "commit": subprocess.run(["git", "-C", str(args.cwd), "rev-parse", "--short", "HEAD"],
                                       capture_output=True, text=True).stdout.strip()}
    result["server_env"] = dict(args.server_env)
    with Server(log, args.server_cmd, args.cwd, env=dict(args.server_env)) as server, \
            sync_playwright() as playwright:
        browser = launch(playwright)
        print("warm-up", flush=True)
        result["warm"] = measure(browser, server, PAGES, 1000, with_slider=False)
        print("measure", flush=True)
        result["rows"] = [dict(row, round=number) for number in range(args.rounds)
                          for row in measure(browser, server, args.pages, number * len(args.pages), with_slider=True,
                                             warm_context=args.warm_context)]
        if args.profile_pages:
            print("profile", flush=True)
            result["profile"] = profile(browser, server, args.profile_pages, args.profile_views, 100, out_dir,
                                        args.label, args.warm_context)
        result["rss_mb_end"] = round(server.rss_mb(), 1)
        browser.close()
    result["loadavg_end"] = os.getloadavg()
    result["server_tracebacks"] = log.read_text().count("Traceback")
    path = out_dir / f"page_cost_{args.label}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path}")


def report(paths: list[Path]) -> str:
    """Markdown tables, one per result file: per page the smallest value over the rounds (n = rounds)."""
    lines = []
    for path in paths:
        data = json.loads(path.read_text())
        rounds = max(row.get("round", 0) for row in data["rows"]) + 1
        lines += [f"### {data['label']} (commit {data.get('commit', '?')}, {data['date']}, smallest of {rounds} "
                  f"view(s) per page, load average {data['loadavg_start'][0]:.1f} at start"
                  + (", warm browser context: static files cached" if data["rows"][0].get("warm_context") else "")
                  + (f", server env {data['server_env']}" if data.get("server_env") else "") + ")", "",
                  "| page | CPU first view s | wall first view s | CPU slider rerun s | wall slider rerun s "
                  "| control moved | websocket MB first view / rerun |",
                  "|---|---|---|---|---|---|---|"]
        for stem in dict.fromkeys(row["page"] for row in data["rows"]):
            rows = [row for row in data["rows"] if row["page"] == stem]
            low = lambda key, rows=rows: min(row[key] for row in rows)  # noqa: E731
            first = f"| {stem} | {low('cpu_first_s'):.2f} | {low('wall_first_s'):.2f} | "
            if rows[0].get("slider"):
                moved = f"{rows[0]['slider']} {rows[0]['from']}→{rows[0]['to']}"
                lines.append(first + f"{low('cpu_slider_s'):.2f} | {low('wall_slider_s'):.2f} | {moved} | "
                                     f"{low('ws_first_mb'):.2f} / {low('ws_slider_mb'):.2f} |")
            else:
                lines.append(first + f"– | – | (no slider or radio) | {low('ws_first_mb'):.2f} / – |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--server-cmd", default=SERVER_CMD,
                        help="command starting the server; {port} is replaced by a free port")
    parser.add_argument("--cwd", type=Path, default=HERE.parent, help="folder to start the server in")
    parser.add_argument("--pages", type=lambda s: s.split(","), default=PAGES)
    parser.add_argument("--rounds", type=int, default=1, help="views of each page (new sentence each); the "
                        "report takes the smallest of each figure, since other work on the machine only adds time")
    parser.add_argument("--warm-context", action="store_true", help="time each view in a browser context that "
                        "has just opened the same page with another text (static files cached): the page's own cost")
    parser.add_argument("--server-env", type=lambda s: tuple(s.split("=", 1)), action="append", default=[],
                        metavar="NAME=VALUE", help="environment variable for the server (repeatable)")
    parser.add_argument("--profile-pages", type=lambda s: s.split(","), default=[])
    parser.add_argument("--profile-views", type=int, default=3)
    parser.add_argument("--report", type=Path, nargs="+", help="print the markdown tables of these JSON results")
    args = parser.parse_args()
    if args.report:
        print(report(args.report))
        return
    args.cwd = args.cwd.resolve()
    run(args)


if __name__ == "__main__":
    main()
