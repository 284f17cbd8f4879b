"""Every layer's attention weights written into one array while the model runs, one layer at a time.

Asked for output_attentions, transformers keeps all L layers' (1, H, T, T) float32 weights until the forward pass
ends and the caller then copies them: at 506 tokens the bundled decoder's are 276 MB, held on top of whatever the
caller keeps. Here a forward hook on each layer's attention module copies that layer's weights into the caller's
array (float16 for the shared analyses) as soon as the layer has computed them, and the layer's float32 tensor is
freed with the layer's other temporaries. The hooks are installed once per model and do nothing unless the thread
that runs the model is recording, so other sessions' calls on the same shared model are untouched.
Shapes: L layers, H heads, T tokens.
"""

from __future__ import annotations

import threading
from functools import partial

import numpy as np
import torch

from viz.model.loading import LoadedModel

_ATTENTION_MODULES = {  # each layer's self-attention module, whose output is (attention output, weights)
    "bert": lambda model: [layer.attention.self for layer in model.encoder.layer],
    "distilbert": lambda model: [layer.attention for layer in model.transformer.layer],
    "gpt2": lambda model: [block.attn for block in model.transformer.h],
    "llama": lambda model: [layer.self_attn for layer in model.model.layers],
}
_HOOKED = "_attnviz_attention_hooks"  # set on a model once its hooks are installed
_install_lock = threading.Lock()
_state = threading.local()  # .target: the (L, H, T, T) array this thread fills; .filled: layers written so far


def forward_with_attentions(loaded: LoadedModel, model_inputs: dict, dtype=np.float32, **kwargs):
    """Run the model once; return (its output without attentions, attentions (L, H, T, T) as `dtype`).

    A model whose layers this module does not know (or whose attention modules return no weights) is asked for
    output_attentions instead, and its layers are copied one by one."""
    info = loaded.info
    n_tokens = model_inputs["input_ids"].shape[1]
    target = np.empty((info.n_layers, info.n_heads, n_tokens, n_tokens), dtype=dtype)
    if _install(loaded):
        _state.target, _state.filled = target, set()
        try:
            with torch.inference_mode():
                out = loaded.model(**model_inputs, output_attentions=False, **kwargs)
            complete = len(_state.filled) == info.n_layers
        finally:
            _state.target = None
        if complete:
            return out, target
        del out
    with torch.inference_mode():
        out = loaded.model(**model_inputs, output_attentions=True, **kwargs)
    layers = list(out.attentions)
    out.attentions = None
    for index in range(len(layers)):  # copied layer by layer, each let go of once copied (no second full copy)
        _copy(target, index, layers[index][0])
        layers[index] = None
    return out, target


def _install(loaded: LoadedModel) -> bool:
    """Hooks on every layer's attention module (once per model); False when the model's layout is not known."""
    model, find = loaded.model, _ATTENTION_MODULES.get(loaded.info.family)
    if find is None:
        return False
    if getattr(model, _HOOKED, False):
        return True
    try:
        modules = find(model)
    except AttributeError:  # a family member laid out differently
        modules = []
    if len(modules) != loaded.info.n_layers:
        return False
    with _install_lock:
        if not getattr(model, _HOOKED, False):
            for index, module in enumerate(modules):
                module.register_forward_hook(partial(_record, index))
            setattr(model, _HOOKED, True)
    return True


def _record(index: int, module, args, output) -> None:
    """Forward hook of layer `index`'s attention module: copy its weights (1, H, T, T) when this thread records."""
    target = getattr(_state, "target", None)
    if target is None or not isinstance(output, tuple) or len(output) < 2 or output[1] is None:
        return
    weights = output[1]
    if tuple(weights.shape) != (1, *target.shape[1:]):
        return  # not this recording's shape (e.g. a module reused elsewhere): the caller falls back
    _copy(target, index, weights[0])
    _state.filled.add(index)


def _copy(target: np.ndarray, index: int, weights: torch.Tensor) -> None:
    """target[index] = weights (H, T, T), cast to the target's dtype by torch (at 506 tokens 30 layers take 0.01 s
    to float16 this way; numpy's own cast took 0.2 s)."""
    torch.from_numpy(target[index]).copy_(weights.detach())
