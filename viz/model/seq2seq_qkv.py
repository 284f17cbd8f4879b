"""Q, K, V of cross-attention, recomputed from an encoder–decoder's weights: queries from the decoder, keys and
values from the encoder's output.

Pure function of (model weights, the analysis's hidden states): no hooks. The query side first passes the layer's
masked self-attention (recomputed here too), because cross-attention reads the decoder stream after it.
Shapes: H heads, T decoder positions, S source tokens, d head width, D width.
"""

from __future__ import annotations

import numpy as np
import torch

from viz.analysis import QKV
from viz.model.loading import LoadedModel
from viz.seq2seq import Seq2SeqAnalysis


def _heads(t: torch.Tensor, head_dim: int) -> torch.Tensor:
    """(N, n*d) -> (n, N, d)."""
    return t.view(t.shape[0], -1, head_dim).transpose(0, 1).contiguous()


def _merge(t: torch.Tensor) -> torch.Tensor:
    """(n, N, d) -> (N, n*d)."""
    return t.transpose(0, 1).reshape(t.shape[1], -1)


def _causal(n: int) -> torch.Tensor:
    """(T, T): 0 on and below the diagonal, -inf above it (a position never reads a later one)."""
    return torch.triu(torch.full((n, n), -torch.inf), diagonal=1)


def _self_attention(q, k, v, *, scale: float, bias: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Masked self-attention output of every head, merged: softmax(q·k * scale + bias + mask) v -> (T, H*d)."""
    scores = q @ k.transpose(-1, -2) * scale + bias + _causal(q.shape[1])
    return _merge(torch.softmax(scores, dim=-1) @ v)


def _bart(model, x, e, layer, head_dim):
    """BART and Marian (post-norm: each block is followed by its norm); mBART (pre-norm: preceded by it)."""
    block = model.model.decoder.layers[layer]
    pre_norm = model.config.model_type == "mbart"
    attention = block.self_attn
    read = block.self_attn_layer_norm(x) if pre_norm else x
    q, k, v = (_heads(proj(read), head_dim) for proj in (attention.q_proj, attention.k_proj, attention.v_proj))
    stream = x + attention.out_proj(_self_attention(q, k, v, scale=attention.scaling))
    query_input = block.encoder_attn_layer_norm(stream) if pre_norm else block.self_attn_layer_norm(stream)
    cross = block.encoder_attn
    queries = _heads(cross.q_proj(query_input), head_dim)
    keys, values = (_heads(proj(e), head_dim) for proj in (cross.k_proj, cross.v_proj))
    return queries, keys, values, cross.scaling


def _t5(model, x, e, layer, head_dim):
    """T5 (pre-norm, no 1/√d scaling, a learned relative-position bias in self-attention only)."""
    block = model.decoder.block[layer]
    attention = block.layer[0].SelfAttention
    read = block.layer[0].layer_norm(x)
    q, k, v = (_heads(proj(read), head_dim) for proj in (attention.q, attention.k, attention.v))
    bias = model.decoder.block[0].layer[0].SelfAttention.compute_bias(x.shape[0], x.shape[0])[0]  # (H, T, T)
    stream = x + attention.o(_self_attention(q, k, v, scale=1.0, bias=bias))
    cross = block.layer[1].EncDecAttention
    queries = _heads(cross.q(block.layer[1].layer_norm(stream)), head_dim)
    keys, values = (_heads(proj(e), head_dim) for proj in (cross.k, cross.v))
    return queries, keys, values, 1.0


_PROJECTIONS = {"marian": _bart, "bart": _bart, "mbart": _bart, "t5": _t5}


def cross_attention_qkv(loaded: LoadedModel, analysis: Seq2SeqAnalysis, layer: int) -> QKV:
    """Q (H, T, d) of the decoder and K, V (H, S, d) of the encoder output in decoder layer `layer`.

    mask (T, S) is all zeros: every output position may read every source token.
    """
    info = loaded.info
    if not 0 <= layer < info.n_layers:
        raise IndexError(f"layer {layer} is outside 0..{info.n_layers - 1}")
    x = torch.from_numpy(np.array(analysis.decoder_hidden_states[layer]))  # (T, D) input of this decoder layer
    e = torch.from_numpy(np.array(analysis.encoder_hidden_states[-1]))  # (S, D) the encoder's output
    with torch.inference_mode():
        q, k, v, scale = _PROJECTIONS[info.family](loaded.model, x, e, layer, info.head_dim)
    heads = q.shape[0]
    return QKV(layer=layer, queries=q.float().numpy(), keys=k.float().numpy(), values=v.float().numpy(),
               kv_head=np.arange(heads), scale=float(scale),
               mask=np.zeros((analysis.n_target, analysis.n_source), dtype=np.float32), rotary=False)
