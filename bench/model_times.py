"""Model-side timings: bare forward pass (the floor), the app's analysis, and raw BertViz HTML building."""

from __future__ import annotations

import multiprocessing
import time

import torch
from inputs import MODELS, SIZES, text_of_tokens
from timing import best_of

from viz.model import analyze, load_model, resolve_model

BERTVIZ_TIMEOUT = 60
SAVE_LIMIT_MB = 190  # larger raw BertViz pages are measured but not written out or opened in Chromium


def forward_and_analysis() -> list[dict]:
    rows = []
    for key in MODELS:
        loaded = load_model(resolve_model(key))
        for size in SIZES:
            text = text_of_tokens(loaded.tokenizer, size)
            encoding = loaded.tokenizer(text, return_tensors="pt", truncation=True, max_length=loaded.info.max_tokens)

            def bare(encoding=encoding, loaded=loaded):
                with torch.inference_mode():
                    loaded.model(**encoding)

            analysis = analyze(loaded, text)
            rows.append({"model": key, "tokens": analysis.n_tokens, "forward_s": best_of(bare),
                         "analysis_s": best_of(lambda text=text, loaded=loaded: analyze(loaded, text)),
                         "analysis_MB": analysis.nbytes / 1e6})
            print(rows[-1], flush=True)
    return rows


def _build_bertviz(key: str, size: int, view: str, queue) -> None:
    from bertviz import head_view, model_view

    loaded = load_model(resolve_model(key))
    text = text_of_tokens(loaded.tokenizer, size)
    encoding = loaded.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        attentions = loaded.model(**encoding, output_attentions=True).attentions
    tokens = loaded.tokenizer.convert_ids_to_tokens(encoding["input_ids"][0])
    started = time.perf_counter()
    html = (head_view if view == "head_view" else model_view)(attentions, tokens, html_action="return").data
    queue.put((time.perf_counter() - started, len(html.encode()), html if len(html) < SAVE_LIMIT_MB * 10**6 else None))


def bertviz_baseline(html_dir) -> list[dict]:
    """Raw bertviz.head_view / model_view: HTML bytes and seconds, each in a process killed after 60 s."""
    rows = []
    context = multiprocessing.get_context("spawn")
    for key in MODELS:
        for size in SIZES:
            for view in ("head_view", "model_view"):
                queue = context.Queue()
                process = context.Process(target=_build_bertviz, args=(key, size, view, queue))
                process.start()
                try:
                    seconds, size_bytes, html = queue.get(timeout=BERTVIZ_TIMEOUT + 30)
                except Exception:
                    seconds, size_bytes, html = None, None, None
                process.join(5)
                if process.is_alive():
                    process.kill()
                path = None
                if html is not None:
                    path = html_dir / f"bertviz_{key.split(':')[1]}_{size}_{view}.html"
                    path.write_text(html)
                rows.append({"model": key, "tokens": size, "view": view, "build_s": seconds,
                             "html_MB": None if size_bytes is None else size_bytes / 1e6, "file": path})
                print({k: v for k, v in rows[-1].items() if k != "file"}, flush=True)
    return rows
