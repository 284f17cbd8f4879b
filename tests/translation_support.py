"""Tiny random encoder–decoders of each family (Marian, T5, BART), built offline with a character tokenizer.

Saved under the tests' local-models folder (conftest sets ATTNVIZ_LOCAL_MODELS), so the app opens them by name.
"""

from __future__ import annotations

import string

from conftest import TINY_DIR

SPECIAL = ["<pad>", "</s>", "<unk>", "<s>"]  # ids 0..3: padding, end of text, unknown, beginning of text
SYMBOLS = list(dict.fromkeys(string.ascii_letters + string.digits + string.punctuation + "▁我正在吃饭"))
FAMILIES = ("marian", "t5", "bart")


def char_tokenizer():
    """A character tokenizer (▁ for a space; end-of-text appended), as transformers' fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIAL + SYMBOLS)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>", bos_token="<s>", model_max_length=64)


def tiny_config(family: str):
    """2 encoder layers, 2 decoder layers, 4 heads, width 32, 64 positions."""
    from transformers import BartConfig, MarianConfig, T5Config

    vocab = len(SPECIAL) + len(SYMBOLS)
    ids = {"vocab_size": vocab, "pad_token_id": 0, "eos_token_id": 1}
    if family == "t5":
        return T5Config(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
                        decoder_start_token_id=0, **ids)
    sizes = {"d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
             "decoder_attention_heads": 4, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
             "max_position_embeddings": 64}
    if family == "marian":
        return MarianConfig(decoder_start_token_id=0, decoder_vocab_size=vocab, **sizes, **ids)
    return BartConfig(decoder_start_token_id=1, bos_token_id=3, forced_eos_token_id=1, **sizes, **ids)


def tiny_folder(family: str):
    """The folder of the tiny model of `family` (made once, seeded), named tiny-<family>-seq2seq."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    folder = TINY_DIR / f"tiny-{family}-seq2seq"
    if not (folder / "model.safetensors").exists():
        torch.manual_seed(0)
        AutoModelForSeq2SeqLM.from_config(tiny_config(family)).save_pretrained(folder)
        char_tokenizer().save_pretrained(folder)
    return folder


def load_tiny(family: str):
    from viz.model import load_model, resolve_model

    return load_model(resolve_model(str(tiny_folder(family))))
