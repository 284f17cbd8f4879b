"""Training a tiny Llama in the app: its character tokenizer, the training loop, and its checkpoint in .cache/trained/.

The model is transformers' own LlamaForCausalLM (rotary positions: a head finds "the previous token" the same way
at every position, and no head can look at absolute positions, so an induction head forms in a minute where a GPT-2
with learned positions copied by position instead) with eager attention, saved with save_pretrained as safetensors,
so the app loads it like any local model. The tokenizer is a PreTrainedTokenizerFast over a character vocabulary
(a BPE model without merges: each character one token, words kept as words, a space as the token ▁), with the
start token <|start|> put first, as in training. Deterministic for a seed on one machine: dropout off, the weights drawn
from a seeded generator, the batches from a seeded numpy generator, and the same thread count (the app uses one).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from viz import training as task
from viz.model.registry import trained_folder

CHECKPOINTS = 30  # attention snapshots kept over a run (and the first and last step); at most one per 10 steps
PROBES = 16  # probe sequences the head scores average over
SAMPLE_CHARS = 80
HISTORY = "training.npz"


@dataclass
class History:
    """What a run recorded. losses (S, 3): all, first part, second part (induction: first occurrence, repeat).

    At checkpoints (K,): steps, snapshots (K, L, H, T, T) of the probe sequence's attention, previous-token and
    induction scores (K, L, H) averaged over the probes, samples (text task). probe: the probe's tokens (T,).
    """

    settings: task.TrainSettings
    probe: tuple[str, ...] = ()
    places: list = field(default_factory=list)  # (start, length) of every probe's pattern; empty for the text task
    losses: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    previous: list = field(default_factory=list)
    induction: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def done_steps(self) -> int:
        return len(self.losses)

    def array(self, name: str) -> np.ndarray:
        return np.array(getattr(self, name), dtype=float)


def build_tokenizer(symbols, context: int) -> PreTrainedTokenizerFast:
    """A character tokenizer over `symbols` (▁ for a space) that puts the start token first."""
    vocab = {token: index for index, token in enumerate([task.START, task.UNKNOWN, *symbols])}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=task.UNKNOWN))
    tokenizer.normalizer = None
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=task.SPACE, prepend_scheme="never", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=task.SPACE, prepend_scheme="never", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{task.START} $A", pair=f"{task.START} $A $B:1", special_tokens=[(task.START, 0)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=task.START, eos_token=task.START,
                                   unk_token=task.UNKNOWN, model_max_length=context + 1)


@contextmanager
def seeded(seed: int):
    """torch's global generator set to `seed` inside the block and restored after it (other code's draws untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build_model(settings: task.TrainSettings, vocab_size: int):
    """A Llama of the given size (one key/value head per query head), weights drawn from the seed, no dropout.

    Input and output embeddings are separate: with one tied table, a head that copies a token into the stream also
    votes for that token as the next one, and on the induction task the first layer's heads then looked 3-5 tokens
    back instead of 1 (measured, seed 0), so the second layer attended 3-5 tokens past the induction target.
    """
    config = LlamaConfig(hidden_size=settings.width, intermediate_size=4 * settings.width,
                         num_hidden_layers=settings.layers, num_attention_heads=settings.heads,
                         num_key_value_heads=settings.heads, max_position_embeddings=settings.context + 1,
                         vocab_size=vocab_size, bos_token_id=0, eos_token_id=0, pad_token_id=None,
                         tie_word_embeddings=False, attention_dropout=0.0, attn_implementation="eager")
    with seeded(settings.seed):
        return LlamaForCausalLM(config)


def _data(settings: task.TrainSettings, tokenizer, text: str | None):
    """(batch maker rng -> (ids (B, T), second-part mask (B, T)), probe ids (P, T), probe (start, length) places)."""
    rng = np.random.default_rng(settings.seed + 1)
    if settings.task == task.INDUCTION:
        vocab = len(task.INDUCTION_SYMBOLS)
        probe, masks = task.induction_batch(rng, PROBES, settings.context, vocab, 2)
        clean, clean_mask = task.induction_batch(rng, 1, settings.context, vocab, 2, settings.context // 2)
        probe[0], masks[0] = clean[0], clean_mask[0]  # the snapshots' probe: a pattern and its repeat fill the context
        return (lambda r: task.induction_batch(r, task.BATCH, settings.context, vocab, 2)), probe, \
            task.pattern_places(masks)
    ids = np.array(tokenizer(text.replace("\n", " "), add_special_tokens=False)["input_ids"])  # a newline: a space
    if len(ids) <= settings.context:
        raise task.BadSettings(f"The text has {len(ids)} characters; it needs more than the context length "
                               f"({settings.context}).")
    second = task.half_masks(settings.context + 1)[1]
    probe = task.text_batch(rng, ids, PROBES, settings.context)
    probe[0, 1:] = ids[:settings.context]  # the text's own beginning, for the snapshots
    return (lambda r: (task.text_batch(r, ids, task.BATCH, settings.context),
                       np.broadcast_to(second, (task.BATCH, settings.context + 1)))), probe, []


def _step_losses(model, ids: torch.Tensor, second: np.ndarray) -> tuple[torch.Tensor, list[float]]:
    logits = model(input_ids=ids).logits[:, :-1]  # (B, T-1, V): position t predicts token t + 1
    per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")  # (B, T-1)
    in_second = torch.from_numpy(np.ascontiguousarray(second[:, 1:]))
    first_part = per_token[~in_second].mean().item()
    second_part = per_token[in_second].mean().item() if in_second.any() else float("nan")
    loss = per_token.mean()
    return loss, [loss.item(), first_part, second_part]


def _checkpoint(model, tokenizer, history: History, probe: torch.Tensor, step: int, prompt: list[int]) -> None:
    model.eval()
    with torch.inference_mode():
        attentions = torch.stack(model(input_ids=probe, output_attentions=True).attentions, dim=1).numpy()
    model.train()  # attentions: (P, L, H, T, T)
    history.steps.append(step)
    history.snapshots.append(attentions[0].astype(np.float32))
    history.previous.append(task.previous_token_score(attentions).mean(axis=0))
    if history.places:
        history.induction.append(task.induction_scores(attentions, history.places))
    if history.settings.task == task.TEXT:
        history.samples.append(sample(model, tokenizer, prompt, history.settings))


def sample(model, tokenizer, prompt: list[int], settings: task.TrainSettings) -> str:
    """SAMPLE_CHARS characters after the prompt ids, drawn at the settings' temperature from the seed."""
    generator = torch.Generator().manual_seed(settings.seed)
    ids = list(prompt)
    model.eval()
    with torch.inference_mode():
        for _ in range(SAMPLE_CHARS):
            logits = model(input_ids=torch.tensor([ids[-(settings.context + 1):]])).logits[0, -1]
            logits[:2] = -torch.inf  # never the start or unknown token: the text has neither
            probabilities = torch.softmax(logits / settings.temperature, dim=-1)
            ids.append(int(torch.multinomial(probabilities, 1, generator=generator)))
    model.train()
    return tokenizer.decode(ids[1:])


def checkpoint_count(steps: int) -> int:
    """How many checkpoints a run of `steps` keeps after its first step."""
    return max(1, min(CHECKPOINTS, steps // 10))


def train(settings: task.TrainSettings, text: str | None = None, *,
          on_progress: Callable[[History], None] | None = None, should_stop: Callable[[], bool] = lambda: False):
    """Train from scratch; returns (model, tokenizer, history). on_progress(history) after every step."""
    task.check_settings(settings)
    symbols = task.INDUCTION_SYMBOLS if settings.task == task.INDUCTION else task.text_symbols(text or "")
    tokenizer = build_tokenizer(symbols, settings.context)
    model = build_model(settings, len(tokenizer))
    batches, probe_ids, places = _data(settings, tokenizer, text)
    probe = torch.from_numpy(probe_ids)
    history = History(settings, tuple(tokenizer.convert_ids_to_tokens(probe_ids[0].tolist())), places)
    prompt = probe_ids[0, :9].tolist()
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    marks = set(np.linspace(0, settings.steps, checkpoint_count(settings.steps) + 1).round().astype(int).tolist())
    rng, started = np.random.default_rng(settings.seed + 2), time.perf_counter()
    model.train()
    for step in range(settings.steps):
        if step in marks:
            _checkpoint(model, tokenizer, history, probe, step, prompt)
        if should_stop():
            break
        ids, second = batches(rng)
        loss, parts = _step_losses(model, torch.from_numpy(ids), second)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history.losses.append(parts)
        history.seconds = time.perf_counter() - started
        if on_progress:
            on_progress(history)
    else:
        _checkpoint(model, tokenizer, history, probe, settings.steps, prompt)
    model.eval()
    return model, tokenizer, history


def save(model, tokenizer, history: History, text: str | None = None) -> Path:
    """Write the model, tokenizer and history to .cache/trained/<key>/ (all at once: a half-written folder never
    shows); returns the folder."""
    folder = trained_folder(history.settings.folder_name)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    np.savez_compressed(partial / HISTORY, losses=history.array("losses"), steps=history.array("steps"),
                        snapshots=np.array(history.snapshots, dtype=np.float16),
                        previous=history.array("previous"), induction=history.array("induction"))
    meta = {"settings": asdict(history.settings), "probe": list(history.probe), "seconds": history.seconds,
            "places": history.places, "version": task.CODE_VERSION, "samples": history.samples}
    (partial / "training.json").write_text(json.dumps(meta, ensure_ascii=False))
    if text is not None:
        (partial / "text.txt").write_text(text)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def load_history(settings: task.TrainSettings) -> History | None:
    """The history of a finished run of these settings kept on disk, or None."""
    folder = trained_folder(settings.folder_name)
    if not (folder / HISTORY).is_file() or not (folder / "model.safetensors").is_file():
        return None
    meta = json.loads((folder / "training.json").read_text())
    if meta.get("version") != task.CODE_VERSION:  # written by older code: trained differently, so trained again
        return None
    with np.load(folder / HISTORY) as arrays:
        history = History(settings, tuple(meta["probe"]), [tuple(place) for place in meta["places"]],
                          losses=arrays["losses"].tolist(), steps=arrays["steps"].astype(int).tolist(),
                          snapshots=list(arrays["snapshots"].astype(np.float32)),
                          previous=list(arrays["previous"]), induction=list(arrays["induction"]),
                          samples=meta["samples"], seconds=meta["seconds"])
    return history
