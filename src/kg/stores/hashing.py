"""Content hashes: of a file (what the manifest records of each graph), and of the rules (shapes and
ontology) a store validated under. With them a reload skips unchanged files and knows when the
rules changed (:mod:`kg.services.load`); the store keeps both itself, so nothing is written beside it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from kg.model.resources import ontology_path, shapes_path


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _rules() -> dict[str, str]:
    return {"shapes": file_sha256(shapes_path()), "ontology": file_sha256(ontology_path())}


def rules_digest() -> str:
    """The SHA-256 of the shapes and of the ontology validation runs with, as one string.

    >>> rules_digest().startswith("shapes:sha256:")
    True
    """
    rules = _rules()
    return f"shapes:sha256:{rules['shapes']} ontology:sha256:{rules['ontology']}"
