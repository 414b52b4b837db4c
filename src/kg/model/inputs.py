"""Reading what comes from outside, within limits, or a message a person can act on.

Limits apply to what is read, not to what ``stat`` says: ``/dev/zero`` reports a size of
zero and never ends, so at most ``limit + 1`` bytes are read. Folders, missing files and
names the system refuses (too long, not allowed) become a :class:`~kg.model.errors.BadInputError`.

>>> read_bounded("/dev/zero", limit=1024, what="a query file")
Traceback (most recent call last):
...
kg.model.errors.BadInputError: /dev/zero is more than 1 KB, above kg's limit of 1 KB for a query file.
"""

from __future__ import annotations

import errno
from pathlib import Path

from kg.model.errors import BadInputError


def _size(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{max(limit // 1024, 1)} KB"


def read_bounded(path: str | Path, *, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes of a file; more is an error.

    Args:
        path: The file.
        limit: The most bytes accepted.
        what: What the file is, for messages ("a facts file", "a source text").

    Raises:
        BadInputError: The file is missing, a folder, unreadable, or larger than ``limit``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file ({what} was expected).") from None
    except IsADirectoryError:
        raise BadInputError(f"{path} is a folder, not {what}.") from None
    except OSError as error:
        reason = "its name is too long" if error.errno == errno.ENAMETOOLONG else (error.strerror or str(error)).lower()
        raise BadInputError(f"{str(path)[:120]}: cannot be read as {what}: {reason}.") from None
    if len(data) > limit:
        raise BadInputError(f"{path} is more than {_size(limit)}, above kg's limit of {_size(limit)} for {what}.")
    return data


def read_utf8(path: str | Path, *, limit: int, what: str) -> str:
    """A UTF-8 text file of at most ``limit`` bytes, decoded exactly (no newline translation).

    Raises:
        BadInputError: As :func:`read_bounded`, or the bytes are not UTF-8.
    """
    data = read_bounded(path, limit=limit, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInputError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); {what} must be "
            "UTF-8. Re-save it as UTF-8."
        ) from None


def regular_file(path: str | Path, *, what: str) -> Path:
    """The path, if it names a regular file (not a device, pipe or folder).

    Raises:
        BadInputError: It does not exist or is not a regular file.
    """
    path = Path(path)
    try:
        if path.is_file():
            return path
        exists = path.exists()
    except OSError as error:
        raise BadInputError(f"{str(path)[:120]}: cannot be read as {what}: {(error.strerror or str(error)).lower()}.") from None
    if not exists:
        raise BadInputError(f"{path}: no such file ({what} was expected).")
    if path.is_dir():
        raise BadInputError(f"{path} is a folder, not {what}.")
    raise BadInputError(f"{path} is not a regular file (a device, pipe or socket), so it cannot be {what}.")
