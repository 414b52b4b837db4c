"""Memory a large step freed, given back to the system."""

from __future__ import annotations

import ctypes
import gc


def release_freed_memory() -> None:
    """Return freed heap memory to the system: glibc keeps what a program frees for its own later use, so after a
    large validation (at 10 M triples, an in-memory index of every file) the process went on holding gigabytes it no
    longer used while it wrote the store and computed the kept answers. A no-op where the C library is not glibc.

    >>> release_freed_memory()
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
