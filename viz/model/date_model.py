"""The offline encoder–decoder: a tiny BART trained here to turn human-written dates into ISO dates (viz/dates.py).

transformers' own BartForConditionalGeneration with eager attention and a character tokenizer
(PreTrainedTokenizerFast, one token per character, a space written ▁, the source ending in <|end|>), saved together
so AutoTokenizer / AutoModelForSeq2SeqLM load the folder, and model.generate starts the decoder with <|start|>.
Trained once per code version into .cache/trained/dates-<version>/ (written whole, then renamed; a file lock keeps
two processes from training it twice), with report.json: held-out accuracy and the cross-attention alignment.
Deterministic for a seed: weights from a seeded generator, batches from a seeded numpy generator, no dropout, and a
fixed torch thread count while training.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    BartConfig,
    BartForConditionalGeneration,
    PreTrainedTokenizerFast,
)

from viz import dates
from viz.model.registry import TRAINED_DIR

VERSION = "v1"  # bump when the task, the model or the training changes: a new folder is trained
DATE_MODEL_DIR = TRAINED_DIR / f"dates-{VERSION}"
PAD, START, END, UNKNOWN, SPACE = "<|pad|>", "<|start|>", "<|end|>", "<|unk|>", "▁"
MAX_SOURCE_TOKENS = 64  # the model's positions; dates are at most 40 characters
TARGET_TOKENS = len("YYYY-MM-DD") + 1  # with <|end|>
TRAIN_THREADS = 1  # fixed, so the loss curve is the same on every run of a seed
HELD_OUT = 1000
REPORT = "report.json"
Progress = Callable[[float, str], None]
_lock = threading.Lock()


@dataclass(frozen=True)
class DateSettings:
    """Everything a run depends on."""

    layers: int = 2
    heads: int = 4
    width: int = 48
    steps: int = 1000
    batch: int = 48
    learning_rate: float = 4e-3
    warmup: int = 100
    seed: int = 0


def build_tokenizer() -> PreTrainedTokenizerFast:
    """One token per character of viz/dates.source_symbols (space as ▁); a text is encoded as chars + <|end|>."""
    symbols = [SPACE if s == " " else s for s in dates.source_symbols()]
    vocab = {token: index for index, token in enumerate([PAD, START, END, UNKNOWN, *symbols])}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNKNOWN))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="never", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="never", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"$A {END}", pair=f"$A {END} $B:1 {END}:1", special_tokens=[(END, vocab[END])])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=PAD, bos_token=START, eos_token=END,
                                   unk_token=UNKNOWN, model_max_length=MAX_SOURCE_TOKENS)


def build_model(settings: DateSettings, tokenizer) -> BartForConditionalGeneration:
    """A tiny BART, weights drawn from the seed, no dropout; the decoder starts from <|start|>."""
    ids = {name: tokenizer.convert_tokens_to_ids(name) for name in (PAD, START, END)}
    config = BartConfig(
        vocab_size=len(tokenizer), d_model=settings.width, encoder_layers=settings.layers,
        decoder_layers=settings.layers, encoder_attention_heads=settings.heads,
        decoder_attention_heads=settings.heads, encoder_ffn_dim=2 * settings.width,
        decoder_ffn_dim=2 * settings.width, max_position_embeddings=MAX_SOURCE_TOKENS, dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0, pad_token_id=ids[PAD], bos_token_id=ids[START],
        eos_token_id=ids[END], decoder_start_token_id=ids[START], forced_bos_token_id=None,
        forced_eos_token_id=None, attn_implementation="eager")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model = BartForConditionalGeneration(config)
    generation = model.generation_config
    generation.decoder_start_token_id, generation.eos_token_id = ids[START], ids[END]
    generation.pad_token_id, generation.bos_token_id = ids[PAD], ids[START]
    generation.max_new_tokens, generation.num_beams, generation.do_sample = TARGET_TOKENS + 1, 1, False
    generation.forced_eos_token_id = generation.forced_bos_token_id = None
    generation.no_repeat_ngram_size = 0
    return model


def encode(tokenizer, examples: list[dates.DateExample]) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask (B, S) of the sources, labels (B, TARGET_TOKENS) of the targets."""
    batch = tokenizer([e.source for e in examples], padding=True, return_tensors="pt")
    labels = tokenizer([e.target for e in examples], return_tensors="pt")["input_ids"]
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "labels": labels}


@contextmanager
def _threads(count: int):
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _learning_rate(settings: DateSettings, step: int) -> float:
    """Linear warm-up, then linear decay to a tenth."""
    if step < settings.warmup:
        return settings.learning_rate * (step + 1) / settings.warmup
    left = (settings.steps - step) / max(settings.steps - settings.warmup, 1)
    return settings.learning_rate * (0.1 + 0.9 * left)


def train(settings: DateSettings = DateSettings(), progress: Progress | None = None):
    """Train from scratch; returns (model, tokenizer, losses, (wall seconds, CPU seconds)).

    progress(fraction, message) every 25 steps and at the end."""
    tokenizer = build_tokenizer()
    model = build_model(settings, tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    losses, started, cpu_started = [], time.perf_counter(), time.process_time()
    model.train()
    with _threads(TRAIN_THREADS):
        for step in range(settings.steps):
            batch = encode(tokenizer, dates.examples(settings.seed * 1_000_003 + step, settings.batch))
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(settings, step)
            loss = model(**batch).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if progress and (step % 25 == 0 or step == settings.steps - 1):
                progress((step + 1) / settings.steps, f"Training the date model: step {step + 1} of "
                         f"{settings.steps}, loss {loss.item():.3f}")
    model.eval()
    return model, tokenizer, losses, (time.perf_counter() - started, time.process_time() - cpu_started)


def _loaded(folder_or_model):
    if isinstance(folder_or_model, str | Path):
        return (AutoModelForSeq2SeqLM.from_pretrained(folder_or_model, attn_implementation="eager").eval(),
                AutoTokenizer.from_pretrained(folder_or_model))
    return folder_or_model


def translate_dates(folder_or_model, texts: list[str], batch_size: int = 256) -> list[str]:
    """Greedy translations of `texts`. folder_or_model: a saved folder, or a (model, tokenizer) pair."""
    model, tokenizer = _loaded(folder_or_model)
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                              return_tensors="pt")
            generated = model.generate(**batch, generation_config=model.generation_config)
            outputs += tokenizer.batch_decode(generated, skip_special_tokens=True)
    return outputs


def evaluate(model, tokenizer, held_out: list[dates.DateExample]) -> dict:
    """Held-out exact-match accuracy and the alignment report, from one forced pass on the right targets.

    Greedy decoding writes the target exactly when, fed the right prefix, every row's most likely token is the
    right one (end included), so the forced pass gives the greedy exact-match accuracy without generating."""
    tally, right = dates.AlignmentTally(), 0
    with torch.inference_mode():
        for start in range(0, len(held_out), 250):
            chunk = held_out[start:start + 250]
            batch = encode(tokenizer, chunk)
            out = model(**batch, output_attentions=True)
            right += int((out.logits.argmax(dim=-1) == batch["labels"]).all(dim=-1).sum())
            cross = torch.stack(out.cross_attentions, dim=1).numpy()  # (B, Ld, H, T, S)
            lengths = batch["attention_mask"].sum(dim=1).tolist()
            for example, attention, length in zip(chunk, cross, lengths, strict=True):
                # row t of the decoder (its input: <|start|> + target[:t]) produces target character t
                tally.add(attention[:, :, :, :length], example.source_spans, example.target_spans, length)
    return {"accuracy": right / len(held_out), "held_out": len(held_out), "alignment": tally.report()}


def save(model, tokenizer, report: dict, folder: Path = DATE_MODEL_DIR) -> Path:
    """Write the model, tokenizer and report.json into `folder` all at once (a half-written folder never shows)."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    (partial / REPORT).write_text(json.dumps(report, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def train_and_save(settings: DateSettings = DateSettings(), progress: Progress | None = None,
                   folder: Path = DATE_MODEL_DIR) -> Path:
    """Train, evaluate on the held-out dates, save with report.json; returns the folder."""
    model, tokenizer, losses, seconds = train(settings, progress)
    if progress:
        progress(1.0, f"Checking the date model on {HELD_OUT} held-out dates…")
    report = evaluate(model, tokenizer, dates.examples(settings.seed, HELD_OUT, held_out=True))
    report.update(train_seconds=round(seconds[0], 1), train_cpu_seconds=round(seconds[1], 1), steps=settings.steps,
                  chance=report["alignment"]["chance"], settings=asdict(settings), threads=TRAIN_THREADS,
                  final_loss=float(np.mean(losses[-50:])))
    return save(model, tokenizer, report, folder)


def ensure_date_model(progress: Progress | None = None, *, folder: Path | None = None) -> Path:
    """The date model's folder (DATE_MODEL_DIR unless given), trained first if it is not there yet, once: a caller
    in this or another process that finds a training under way waits for it, then reuses the folder."""
    folder = Path(folder or DATE_MODEL_DIR)
    if (folder / REPORT).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(folder.with_name(folder.name + ".lock"), "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes, even if training fails
        if not (folder / REPORT).is_file():
            train_and_save(progress=progress, folder=folder)
    return folder


def printed_progress() -> Progress:
    """A progress callback for a terminal: prints the message at each tenth of the way."""
    shown = set()

    def progress(fraction: float, message: str) -> None:
        if int(fraction * 10) not in shown:
            shown.add(int(fraction * 10))
            print(message, flush=True)
    return progress


def load_report(folder: Path = DATE_MODEL_DIR) -> dict:
    """The report.json saved next to the weights."""
    return json.loads((Path(folder) / REPORT).read_text())
