"""`python -m viz.model.prepare`: get the bundled models ready (convert the GGUF decoder once, train the offline
date model once)."""

import time

from viz.model.date_model import ensure_date_model, printed_progress
from viz.model.loading import prepare_bundled_decoder
from viz.model.registry import minilm_folder, smollm_converted_folder


def main() -> None:
    started = time.perf_counter()
    print(f"bundled encoder: {minilm_folder()}")
    prepare_bundled_decoder(progress=print)
    print(f"bundled decoder: {smollm_converted_folder()} (ready in {time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    folder = ensure_date_model(progress=printed_progress())  # about a minute the first time (viz/model/date_model.py)
    print(f"offline date model: {folder} (ready in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
