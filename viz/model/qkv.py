"""Query, key and value vectors of one layer, recomputed from the model's weights on demand.

Pure function of (model weights, hidden states): no hooks, nothing stored on the shared model.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from viz.analysis import QKV, Analysis
from viz.model.loading import LoadedModel


def attention_qkv(loaded: LoadedModel, analysis: Analysis, layer: int) -> QKV:
    """Q, K, V of `layer` for the analysed text, as they enter softmax(q·k * scale + mask)."""
    info = loaded.info
    if not 0 <= layer < info.n_layers:
        raise IndexError(f"layer {layer} is outside 0..{info.n_layers - 1}")
    x = torch.from_numpy(np.array(analysis.hidden_states[layer]))  # (T, D) input of this layer
    with torch.inference_mode():
        q, k, v, scale, rotary = _PROJECTIONS[info.family](loaded.model, x, layer, info)
    n_tokens = analysis.n_tokens
    group = info.n_heads // info.n_kv_heads
    kv_head = np.arange(info.n_heads) // group
    mask = np.zeros((n_tokens, n_tokens), dtype=np.float32)
    if info.is_causal:
        mask[np.triu_indices(n_tokens, k=1)] = -np.inf
    return QKV(
        layer=layer,
        queries=q.numpy(),
        keys=k.numpy()[kv_head],
        values=v.numpy()[kv_head],
        kv_head=kv_head,
        scale=float(scale),
        mask=mask,
        rotary=rotary,
    )


def _heads(t: torch.Tensor, head_dim: int) -> torch.Tensor:
    """(T, n*d) -> (n, T, d)."""
    return t.view(t.shape[0], -1, head_dim).transpose(0, 1).contiguous()


def _bert(model, x, layer, info):
    attention = model.encoder.layer[layer].attention.self
    d = info.head_dim
    q, k, v = (_heads(proj(x), d) for proj in (attention.query, attention.key, attention.value))
    return q, k, v, getattr(attention, "scaling", d**-0.5), False


def _distilbert(model, x, layer, info):
    attention = model.transformer.layer[layer].attention
    d = info.head_dim
    q, k, v = (_heads(proj(x), d) for proj in (attention.q_lin, attention.k_lin, attention.v_lin))
    return q, k, v, d**-0.5, False


def _gpt2(model, x, layer, info):
    block = model.transformer.h[layer]
    d = info.head_dim
    q, k, v = (_heads(t, d) for t in block.attn.c_attn(block.ln_1(x)).split(info.width, dim=-1))
    scale = d**-0.5 if model.config.scale_attn_weights else 1.0
    if model.config.scale_attn_by_inverse_layer_idx:
        scale /= layer + 1
    return q, k, v, scale, False


def _llama(model, x, layer, info):
    decoder_layer = model.model.layers[layer]
    attention = decoder_layer.self_attn
    d = info.head_dim
    normed = decoder_layer.input_layernorm(x)  # pre-norm: the projections read the normalised stream
    q, k, v = (_heads(proj(normed), d) for proj in (attention.q_proj, attention.k_proj, attention.v_proj))
    if hasattr(attention, "q_norm"):  # Qwen3-style per-head norms before rotary
        q, k = attention.q_norm(q), attention.k_norm(k)
    positions = torch.arange(x.shape[0])[None]
    cos, sin = model.model.rotary_emb(normed[None], positions)
    q, k = apply_rotary_pos_emb(q[None], k[None], cos, sin)
    return q[0], k[0], v, attention.scaling, True


_PROJECTIONS = {"bert": _bert, "distilbert": _distilbert, "gpt2": _gpt2, "llama": _llama}
