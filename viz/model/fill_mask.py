"""Fill-in-the-blank for encoders: the masked-LM head of a checkpoint that has one (bert-base-uncased does,
the bundled all-MiniLM-L6-v2 does not). Loaded once per model and process; nothing is stored on the shared model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForMaskedLM
from transformers.utils import logging as hf_logging

from viz.model import registry
from viz.model.loading import LoadedModel

_MAX_HEADS = 2
_heads: OrderedDict[str, Any] = OrderedDict()
_lock = threading.Lock()


def masked_lm(loaded: LoadedModel):
    """The masked-LM model for an encoder whose checkpoint includes the prediction head, else None."""
    if loaded.info.is_causal or loaded.tokenizer.mask_token_id is None:
        return None
    key = loaded.info.key
    with _lock:
        if key not in _heads:
            _heads[key] = _load_head(loaded)
            while len(_heads) > _MAX_HEADS:
                _heads.popitem(last=False)
        _heads.move_to_end(key)
        return _heads[key]


def _load_head(loaded: LoadedModel):
    spec = loaded.spec
    folder = registry.minilm_folder() if spec.source == "bundled-encoder" else spec.location
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # a checkpoint without the head is expected here, not worth a warning
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(
            str(folder), output_loading_info=True, dtype=torch.float32, use_safetensors=True,
            trust_remote_code=False,
        )
    except (OSError, ValueError, KeyError):
        return None
    finally:
        hf_logging.set_verbosity(verbosity)
    prefix = f"{model.base_model_prefix}."
    # weights outside the base encoder that were missing are the head: without them it would guess at random
    if any(not key.startswith(prefix) for key in info.get("missing_keys", ())):
        return None
    return model.eval()


def fill_mask_logits(mlm, token_ids, position: int, mask_token_id: int) -> np.ndarray:
    """Scores (V,) for the token at `position` after replacing it with the mask token; token_ids (T,)."""
    ids = torch.tensor([list(token_ids)])
    ids[0, position] = mask_token_id
    with torch.inference_mode():
        logits = mlm(input_ids=ids, attention_mask=torch.ones_like(ids)).logits  # (1, T, V)
    return logits[0, position].float().numpy()
