"""Readable text of token ids: byte pieces joined with their neighbours so no "�" is shown, and word splits.

Byte-level tokenizers (GPT-2, SmolLM2) cut a character such as "吃" into several tokens whose bytes are not
text on their own. These helpers show such a piece as the character it belongs to, with "(1/2)", "(2/2)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

REPLACEMENT = "\ufffd"
MAX_CHARACTER_PIECES = 4  # a UTF-8 character has at most 4 bytes, so at most 4 byte pieces


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet: the printable character each byte is written as, reversed."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def token_bytes(tokenizer, token_id: int) -> bytes:
    """The bytes one token stands for (the decoded text when it is whole characters)."""
    text = tokenizer.decode([int(token_id)], clean_up_tokenization_spaces=False)
    if REPLACEMENT not in text:
        return text.encode("utf-8")
    piece = tokenizer.convert_ids_to_tokens(int(token_id))
    if match := re.fullmatch(r"<0x([0-9A-Fa-f]{2})>", piece):  # SentencePiece byte fallback
        return bytes([int(match[1], 16)])
    decoder = _byte_decoder()
    if all(ch in decoder for ch in piece):
        return bytes(decoder[ch] for ch in piece)
    return text.encode("utf-8")


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def raw_label(data: bytes) -> str:
    """Text of bytes that are not whole characters, with the broken bytes written as \\xNN (never "�")."""
    return data.decode("utf-8", errors="backslashreplace")


def piece_labels(pieces: list[bytes]) -> list[str]:
    """Display text per piece; pieces that only make a character together show it as 'char(k/n)'."""
    labels: list[str] = []
    i = 0
    while i < len(pieces):
        whole = _text(pieces[i])
        if whole is not None:
            labels.append(whole)
            i += 1
            continue
        end = next((j for j in range(i + 2, min(len(pieces), i + MAX_CHARACTER_PIECES) + 1)
                    if _text(b"".join(pieces[i:j])) is not None), None)
        if end is None:
            labels.append(raw_label(pieces[i]))
            i += 1
            continue
        text, count = _text(b"".join(pieces[i:end])), end - i
        labels.extend(f"{text}({k}/{count})" for k in range(1, count + 1))
        i = end
    return labels


def token_labels(tokenizer, ids) -> list[str]:
    """Display text of each token id of a sequence, byte pieces combined with their neighbours."""
    return piece_labels([token_bytes(tokenizer, i) for i in ids])


def candidate_labels(tokenizer, context_ids, candidate_ids) -> list[str]:
    """Display text of candidate next tokens; a byte piece that completes the context's last character shows it."""
    tail = [token_bytes(tokenizer, i) for i in list(context_ids)[-(MAX_CHARACTER_PIECES - 1):]]
    labels = []
    for token_id in candidate_ids:
        data = token_bytes(tokenizer, token_id)
        label = _text(data)
        for start in range(len(tail) - 1, -1, -1):
            if label is not None:
                break
            joined = _text(b"".join(tail[start:]) + data)
            if joined is not None and _text(b"".join(tail[start:])) is None:
                count = len(tail) - start + 1
                label = f"{joined}({count}/{count})"
        labels.append(label if label is not None else raw_label(data))
    return labels


def sequence_text(tokenizer, ids) -> str:
    """The text of a whole token sequence; bytes of an unfinished last character are written as \\xNN."""
    return raw_label(b"".join(token_bytes(tokenizer, i) for i in ids))


@dataclass(frozen=True)
class TokenSplit:
    """How a tokenizer cut a text: ids (T,), display labels (T,), and the words that took several tokens."""

    ids: tuple[int, ...]
    labels: tuple[str, ...]
    split_words: tuple[tuple[str, tuple[str, ...]], ...]  # (word, its token labels) for words of 2+ tokens
    dropped: int = 0  # tokens beyond max_tokens, cut off


def split_text(tokenizer, text: str, *, max_tokens: int | None = None) -> TokenSplit:
    """Tokenize text as the model reads it (special tokens included), keep the first max_tokens, list split words."""
    encoding = tokenizer(text, return_offsets_mapping=True)
    limit = len(encoding["input_ids"]) if max_tokens is None else max_tokens
    ids = tuple(int(i) for i in encoding["input_ids"][:limit])
    labels = tuple(token_labels(tokenizer, ids))
    words: dict[int, list[int]] = {}
    for position, word in enumerate(encoding.word_ids()[:limit]):
        if word is not None:
            words.setdefault(word, []).append(position)
    offsets = encoding["offset_mapping"]
    split = []
    for positions in words.values():
        if len(positions) > 1:
            word = text[offsets[positions[0]][0]:offsets[positions[-1]][1]].strip()
            split.append((word, tuple(labels[p] for p in positions)))
    return TokenSplit(ids=ids, labels=labels, split_words=tuple(split),
                      dropped=len(encoding["input_ids"]) - len(ids))
