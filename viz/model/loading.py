"""Loading models once per process: bundled encoder and decoder, hub ids and local folders."""

from __future__ import annotations

import fcntl
import shutil
import threading
from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, GgufConfig

from viz.analysis import CAUSAL, ENCODER, ModelInfo
from viz.model import registry
from viz.model.registry import ModelSpec
from viz.seq2seq import SEQ2SEQ

APP_TOKEN_LIMIT = 512  # longest input analysed; attention for 30 layers x 9 heads at 512 tokens is 283 MB
FAMILIES = {
    "bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "electra": "bert", "camembert": "bert",
    "distilbert": "distilbert",
    "gpt2": "gpt2",
    "llama": "llama", "mistral": "llama", "qwen2": "llama", "qwen3": "llama", "smollm3": "llama",
    "marian": "marian", "t5": "t5", "mt5": "t5", "bart": "bart", "mbart": "mbart",
}
CAUSAL_FAMILIES = {"gpt2", "llama"}
SEQ2SEQ_FAMILIES = {"marian", "t5", "bart", "mbart"}  # encoder–decoders: the Translation page (viz/model/seq2seq.py)
_load_lock = threading.Lock()


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why in words a user understands."""


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model, its tokenizer and what pages need to know about it. Shared read-only by all sessions."""

    spec: ModelSpec
    model: Any
    tokenizer: Any
    info: ModelInfo


def prepare_bundled_decoder(progress=None) -> None:
    """Convert the bundled GGUF decoder to a safetensors folder once, so later starts take a second."""
    target = registry.smollm_converted_folder()
    if (target / "model.safetensors").is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".convert.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # another process may be converting right now
        if (target / "model.safetensors").is_file():
            return
        if progress:
            progress("Converting the bundled SmolLM2 decoder from GGUF (first start only, about 30 s)…")
        gguf = registry.smollm_gguf()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
            quantization_config=GgufConfig(dequantize=True),  # plain weights, so save_pretrained works
        )
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        partial.rename(target)


def load_model(spec: ModelSpec, progress=None) -> LoadedModel:
    """Load a model for analysis with eager attention; raise ModelLoadError with a readable cause."""
    with _load_lock:
        if spec.source == "bundled-decoder":
            prepare_bundled_decoder(progress)
            folder = registry.smollm_converted_folder()
        elif spec.source == "bundled-encoder":
            folder = registry.minilm_folder()
        elif spec.source == "offline-dates":
            folder = _date_model_folder(progress)
        else:
            folder = spec.location
        try:
            return _load_folder(spec, str(folder))
        except ModelLoadError:
            raise
        except (OSError, ValueError, KeyError, ImportError) as error:  # ImportError: a tokenizer package missing
            raise ModelLoadError(_explain(spec, error)) from error


def _load_folder(spec: ModelSpec, folder: str) -> LoadedModel:
    config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
    family = FAMILIES.get(config.model_type)
    if family is None:
        raise ModelLoadError(
            f"{spec.name} is a {config.model_type!r} model; this app supports BERT-family encoders "
            f"(bert, roberta, distilbert, …), GPT-2 and Llama-family decoders, and Marian, T5 and BART "
            f"encoder–decoders."
        )
    loader = (AutoModelForCausalLM if family in CAUSAL_FAMILIES
              else AutoModelForSeq2SeqLM if family in SEQ2SEQ_FAMILIES else AutoModel)
    common = {"trust_remote_code": False}
    tokenizer = AutoTokenizer.from_pretrained(folder, **common)
    model = loader.from_pretrained(
        folder, attn_implementation="eager", dtype=torch.float32, use_safetensors=True, **common
    )
    model.eval()
    model.requires_grad_(False)  # shared and read-only: attribution takes gradients of the inputs only
    info = _model_info(spec, model, tokenizer, family)
    _check_attentions_come_back(model, tokenizer, info)
    return LoadedModel(spec=spec, model=model, tokenizer=tokenizer, info=info)


def _date_model_folder(progress):
    """The folder of the date model, trained on first use (viz/model/date_model.py)."""
    try:
        from viz.model.date_model import ensure_date_model
    except ImportError as error:
        raise ModelLoadError("The offline date model is not part of this version of the app yet.") from error
    return ensure_date_model(progress)


def _model_info(spec: ModelSpec, model, tokenizer, family: str) -> ModelInfo:
    config = model.config
    n_heads = config.num_attention_heads
    width = config.hidden_size
    causal, seq2seq = family in CAUSAL_FAMILIES, family in SEQ2SEQ_FAMILIES
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", APP_TOKEN_LIMIT)
    vocab = model.get_output_embeddings().weight.shape[0] if causal or seq2seq else config.vocab_size
    n_layers = config.num_hidden_layers
    if seq2seq:  # ModelInfo describes the decoder's side; the analysis holds the encoder's own shapes
        n_layers = getattr(config, "decoder_layers", None) or getattr(config, "num_decoder_layers", None) or n_layers
        n_heads = getattr(config, "decoder_attention_heads", None) or n_heads
    return ModelInfo(
        key=spec.key, name=spec.name, family=family, kind=CAUSAL if causal else SEQ2SEQ if seq2seq else ENCODER,
        n_layers=n_layers, n_heads=n_heads,
        n_kv_heads=getattr(config, "num_key_value_heads", None) or n_heads,
        head_dim=getattr(config, "head_dim", None) or getattr(config, "d_kv", None) or width // n_heads,
        width=width, vocab_size=vocab, max_tokens=min(positions, APP_TOKEN_LIMIT),
        special_tokens=tuple(tokenizer.all_special_tokens),
    )


def _check_attentions_come_back(model, tokenizer, info: ModelInfo) -> None:
    with torch.inference_mode():
        # cut to the model's positions: a model trained on the Train page may read as few as 9 tokens
        probe = tokenizer("hello world", return_tensors="pt", truncation=True, max_length=info.max_tokens)
        if info.kind == SEQ2SEQ:
            probe["decoder_input_ids"] = torch.tensor([[model.config.decoder_start_token_id or 0]])
        out = model(**probe, output_attentions=True)
    attentions = getattr(out, "cross_attentions" if info.kind == SEQ2SEQ else "attentions", None)
    if not attentions or len(attentions) != info.n_layers or any(a is None for a in attentions):
        raise ModelLoadError(f"{info.name} did not return one attention tensor per layer, so it cannot be shown.")


def _explain(spec: ModelSpec, error: Exception) -> str:
    text = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    if spec.source == "hub":
        return (
            f"Could not load {spec.location!r} from the Hugging Face Hub: it does not exist, has no "
            f"safetensors weights, or this machine is offline. ({text})"
        )
    return f"Could not load {spec.name}: {text}"
