"""Model access for where position comes in and where a head's output goes: learned position tables,
rotary frequencies, and the output projection that mixes the concatenated heads.

Read-only: nothing is stored on the shared model; every function returns plain numpy or a small record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from viz.model.loading import LoadedModel


@dataclass(frozen=True)
class RotaryInfo:
    """Rotary position embedding of a Llama-family model: pair i of q and k turns by angle position * inv_freq[i].

    Shapes: d head width; inv_freq (d/2,).
    """

    inv_freq: np.ndarray
    attention_scaling: float  # cos and sin are multiplied by this (1.0 for the default rotary)
    rope_type: str
    base: float | None  # the theta of the frequencies, when the config states it


@dataclass(frozen=True)
class OutputProjection:
    """The linear map after attention: concatenated heads (H*d) -> residual stream width (D)."""

    name: str  # where it lives in the model, e.g. "layers[3].self_attn.o_proj"
    in_features: int
    out_features: int
    has_bias: bool
    then: str  # what happens to its output, in words


def learned_positions(loaded: LoadedModel, n_positions: int) -> np.ndarray | None:
    """Rows of the learned position-embedding table for positions 0..n-1, or None when the model has none.

    Shapes: (P, D) with P = min(n_positions, rows in the table).
    """
    table, offset = _position_table(loaded)
    if table is None:
        return None
    rows = table.weight.detach()[offset:offset + max(0, n_positions)]
    return rows.float().numpy().copy()


def position_table_size(loaded: LoadedModel) -> int:
    """How many positions the learned table holds (0 for models without one)."""
    table, offset = _position_table(loaded)
    return 0 if table is None else int(table.weight.shape[0]) - offset


def _position_table(loaded: LoadedModel):
    """(the position nn.Embedding, the row of position 0) for BERT-family and GPT-2, else (None, 0)."""
    model, family = loaded.model, loaded.info.family
    if family in ("bert", "distilbert"):
        table = getattr(model.embeddings, "position_embeddings", None)
    elif family == "gpt2":
        table = model.transformer.wpe
    else:
        return None, 0
    if table is None:
        return None, 0
    # RoBERTa-style tables reserve the rows up to the padding index; the first real position follows them
    offset = table.padding_idx + 1 if table.padding_idx is not None else 0
    return table, offset


def rotary_info(loaded: LoadedModel) -> RotaryInfo | None:
    """The rotary frequencies of a Llama-family model, or None for models with other position schemes."""
    if loaded.info.family != "llama":
        return None
    rotary = loaded.model.model.rotary_emb
    parameters = getattr(loaded.model.config, "rope_parameters", None) or {}
    base = parameters.get("rope_theta", getattr(loaded.model.config, "rope_theta", None))
    return RotaryInfo(
        inv_freq=rotary.inv_freq.detach().float().numpy().copy(),
        attention_scaling=float(getattr(rotary, "attention_scaling", 1.0)),
        rope_type=str(getattr(rotary, "rope_type", "default")),
        base=float(base) if base is not None else None,
    )


def _output_module(loaded: LoadedModel, layer: int):
    """(module, its name, what follows it) of the output projection of `layer`."""
    model, family = loaded.model, loaded.info.family
    if family == "bert":
        return (model.encoder.layer[layer].attention.output.dense, f"encoder.layer[{layer}].attention.output.dense",
                "then dropout, plus the layer's input (residual connection), then LayerNorm")
    if family == "distilbert":
        return (model.transformer.layer[layer].attention.out_lin, f"transformer.layer[{layer}].attention.out_lin",
                "then plus the layer's input (residual connection), then LayerNorm")
    if family == "gpt2":
        return (model.transformer.h[layer].attn.c_proj, f"transformer.h[{layer}].attn.c_proj",
                "then added to the residual stream (the layer's input), before the feed-forward block")
    return (model.model.layers[layer].self_attn.o_proj, f"model.layers[{layer}].self_attn.o_proj",
            "then added to the residual stream (the layer's input), before the feed-forward block")


def output_projection(loaded: LoadedModel, layer: int) -> OutputProjection:
    """Name and shape of the output projection of `layer`, read from the loaded model."""
    module, name, then = _output_module(loaded, layer)
    weight = module.weight
    if isinstance(module, torch.nn.Linear):
        in_features, out_features = module.in_features, module.out_features
    else:  # GPT-2's Conv1D stores its weight as (in, out)
        in_features, out_features = int(weight.shape[0]), int(weight.shape[1])
    return OutputProjection(name=name, in_features=in_features, out_features=out_features,
                            has_bias=getattr(module, "bias", None) is not None, then=then)


def project_heads(loaded: LoadedModel, layer: int, concatenated: np.ndarray) -> np.ndarray:
    """The output projection applied to concatenated head outputs.

    Shapes: concatenated (..., H*d) -> (..., D).
    """
    module, _, _ = _output_module(loaded, layer)
    with torch.inference_mode():
        out = module(torch.from_numpy(np.ascontiguousarray(concatenated, dtype=np.float32)))
    return out.float().numpy().copy()
