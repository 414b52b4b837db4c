"""Writing files so that a reader, or a crash, sees the old content or the new, never a part.

Every file kg writes (exports, reports, documentation, pictures, new facts files, its
caches) goes through :func:`atomic_output`: the content is written to an anonymous
temporary file in the target's folder (Linux ``O_TMPFILE``: it has no name, so a process
killed while writing leaves nothing behind), flushed to disk, given a name and renamed over
the target in one step. Where the file system has no anonymous files, a hidden named
temporary file is used instead and removed on any error.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
>>> write_text(target, "old"); write_text(target, "new")
>>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
('new', ['out.txt'])
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_NO_ANONYMOUS_FILES = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT}
_AT_FDCWD, _AT_EMPTY_PATH = -100, 0x1000


def _link_anonymous(fd: int, named: Path) -> bool:
    """Give an anonymous file a name: linkat(fd, "", AT_EMPTY_PATH), else through /proc; False if neither works."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.linkat(fd, b"", _AT_FDCWD, os.fsencode(named), _AT_EMPTY_PATH) == 0:
            return True
    except (OSError, AttributeError):
        pass
    try:
        os.link(f"/proc/self/fd/{fd}", named, follow_symlinks=True)
        return True
    except OSError:
        return False


def _anonymous(folder: Path) -> int | None:
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(folder, flag | os.O_RDWR, 0o666)
    except OSError as error:
        if error.errno in _NO_ANONYMOUS_FILES:
            return None
        raise


def _settle(handle: BinaryIO, mode: int | None) -> None:
    """Flush a written file to disk and give it the target's permission bits."""
    handle.flush()
    os.fsync(handle.fileno())
    if mode is not None:
        os.fchmod(handle.fileno(), mode)


@contextmanager
def atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` when the block ends without error.

    On an error (or Ctrl-C) inside the block the target is left as it was and no
    temporary file remains. An existing target keeps its permission bits.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd = _anonymous(folder)
    if fd is None:
        handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", suffix=".tmp", delete=False)
        named = Path(handle.name)
        try:
            yield handle
            _settle(handle, mode)
            handle.close()
            os.replace(named, target)
        except BaseException:
            handle.close()
            named.unlink(missing_ok=True)
            raise
        return
    with os.fdopen(fd, "wb") as handle:
        yield handle
        _settle(handle, mode)
        # Name the anonymous file beside the target, then rename it over the target.
        named = folder / f".{target.name}.{os.getpid()}.{id(handle):x}.tmp"
        try:
            if not _link_anonymous(handle.fileno(), named):
                # Some sandboxes refuse to name anonymous files: copy into a named one.
                with open(handle.fileno(), "rb", closefd=False) as written, open(named, "xb") as copy:
                    written.seek(0)
                    shutil.copyfileobj(written, copy)
                    _settle(copy, mode)
            os.replace(named, target)
        except BaseException:
            named.unlink(missing_ok=True)
            raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Replace a file's content atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as handle:
        handle.write(data)


def write_text(path: str | Path, text: str) -> None:
    """Replace a file's content atomically with UTF-8 text (see :func:`atomic_output`)."""
    write_bytes(path, text.encode("utf-8"))
