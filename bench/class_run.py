"""The class part of `make bench`: the class table (class_times.py), then the memory figures (class_memory.py).

Run alone: `cd bench && PYTHONPATH=.. ../.venv/bin/python class_run.py [--pages a,b] [--counts 1,10,30]
[--skip-memory] [--report]`. Writes results/class.md and results/class.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import class_memory
from browser_views import PAGES, ROOT
from class_times import COUNTS, RESULTS, classroom, markdown


def run(pages: list[str] = PAGES, counts: list[int] = COUNTS, with_memory: bool = True, tree: Path = ROOT) -> dict:
    """The class table (and the memory figures); writes results/class.json and class.md, returns the result."""
    result = asyncio.run(classroom(pages, counts, tree))
    text = markdown(result)
    if with_memory:
        result["memory"] = asyncio.run(class_memory.memory(tree))
        text += "\n" + class_memory.markdown(result["memory"])
    (RESULTS / "class.json").write_text(json.dumps(result, indent=1))
    (RESULTS / "class.md").write_text(text)
    print(text)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=lambda s: s.split(","), default=PAGES)
    parser.add_argument("--counts", type=lambda s: [int(n) for n in s.split(",")], default=list(COUNTS))
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--report", action="store_true", help="only rewrite results/class.md from class.json")
    parser.add_argument("--tree", type=Path, default=ROOT, help="folder the server runs the app from, e.g. a "
                        "`git archive HEAD` copy (with .venv and .cache linked) when others are editing this tree")
    args = parser.parse_args()
    if args.report:
        result = json.loads((RESULTS / "class.json").read_text())
        memory = "\n" + class_memory.markdown(result["memory"]) if "memory" in result else ""
        (RESULTS / "class.md").write_text(markdown(result) + memory)
        return
    run(args.pages, args.counts, not args.skip_memory, args.tree.resolve())


if __name__ == "__main__":
    main()
