"""`python -m viz.model.prepare`: get the bundled models ready (convert the GGUF decoder once)."""

import time

from viz.model.loading import prepare_bundled_decoder
from viz.model.registry import minilm_folder, smollm_converted_folder


def main() -> None:
    started = time.perf_counter()
    print(f"bundled encoder: {minilm_folder()}")
    prepare_bundled_decoder(progress=print)
    print(f"bundled decoder: {smollm_converted_folder()} (ready in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
