"""A validation cache: loading a corpus that validated before, unchanged, skips re-validation.

An entry records the SHA-256 of every file loaded together, of the shapes and of the
ontology, the named graph each file went into, and the SHA-256 of every other graph the
store held then (from the store's manifest). A later load of the same files into a store
whose other graphs are still those is known to conform, so it goes straight to
Oxigraph's parser. Anything changed — one byte of a file, the shapes, the ontology, another
graph — misses the cache and validates in full.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kg.model.atomicfile import write_text
from kg.model.resources import ontology_path, shapes_path

#: How many entries a cache keeps (the most recent).
MAX_ENTRIES = 16


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


class ValidationCache:
    """Entries of validated loads, kept in a JSON file beside the store."""

    def __init__(self, path: Path):
        self.path = path

    def _entries(self) -> list[dict]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))["entries"]
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return []

    def lookup(self, files: dict[str, str], others: dict[str, str]) -> dict[str, str] | None:
        """The graph of each file, if these files validated with these other graphs and rules."""
        rules = _rules()
        for entry in self._entries():
            if entry.get("files") == files and entry.get("rules") == rules:
                graphs = entry.get("graphs", {})
                context = {g: h for g, h in others.items() if g not in graphs.values()}
                if entry.get("context") == context:
                    return graphs
        return None

    def remember(self, files: dict[str, str], graphs: dict[str, str], others: dict[str, str]) -> None:
        """Record a load that validated (written atomically)."""
        context = {g: h for g, h in others.items() if g not in graphs.values()}
        entry = {"files": files, "rules": _rules(), "graphs": graphs, "context": context}
        entries = [e for e in self._entries() if e.get("files") != files][: MAX_ENTRIES - 1]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text(self.path, json.dumps({"entries": [entry, *entries]}, indent=1))
