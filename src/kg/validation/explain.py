"""Validation results in words: each problem's file, focus node and its label, message and rule.

A blank node (a quote selector, a relay step) is explained through the IRI it hangs from, so
a problem always names something a person can find in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import RDF, RDFS, BNode, Graph, Node, URIRef
from rdflib.namespace import SH

from kg.model.namespaces import shorten

SEVERITIES = ("Violation", "Warning", "Info")
DANGLING_SHAPE = "kgsh:DanglingLinkShape"


@dataclass(frozen=True)
class Problem:
    """One validation result, in words.

    Attributes:
        severity: ``Violation``, ``Warning`` or ``Info``.
        focus: The node that broke the rule, shortened (``claim:…`` style where possible).
        focus_label: What the focus node is, for people: its label, or for a nested node
            (a quote selector, a relay step) the claim it belongs to.
        message: The rule's own message.
        path: The property concerned, if any.
        value: The offending value, if any.
        shape: The shape whose rule failed.
        file: The file the focus node came from, if known.
        line: The line of that file the node (or the claim a nested node belongs to) is
            described on, where it is found; shown as ``facts/x.ttl:42``.
    """

    severity: str
    focus: str
    focus_label: str
    message: str
    path: str | None
    value: str | None
    shape: str
    file: str | None
    line: int | None = None

    def to_text(self) -> str:
        where = f"{self.file}{f':{self.line}' if self.line else ''}: " if self.file else ""
        lines = [f"{self.severity}: {where}{self.focus} ({self.focus_label})", f"    {self.message}"]
        if self.path:
            lines.append(f"    property: {self.path}")
        if self.value:
            lines.append(f"    value: {self.value}")
        lines.append(f"    rule: {self.shape}")
        return "\n".join(lines)


def own_nodes(graph: Graph) -> set:
    """The nodes a graph speaks of as its own: its subjects and its blank nodes (for ``validate(only=)``)."""
    return set(graph.subjects()) | {o for o in graph.objects() if isinstance(o, BNode)}


def owner_of(node: Node, graph: Graph, depth: int = 0) -> tuple[Node, str | None]:
    """The IRI a blank node hangs from, and the property path to it."""
    if not isinstance(node, BNode) or depth > 4:
        return node, None
    for subject, predicate in graph.subject_predicates(node):
        owner, path = owner_of(subject, graph, depth + 1)
        step = shorten(predicate)
        return owner, f"{path}/{step}" if path else step
    return node, None


def label_of(node: Node, graph: Graph) -> str:
    owner, path = owner_of(node, graph)
    label = graph.value(owner, RDFS.label)
    name = str(label) if label is not None else "no label"
    if owner != node:
        return f"{path} of {shorten(owner)}: {name}"
    return name


#: Files larger than this are not searched for the line a node is described on.
MAX_LINE_SEARCH_BYTES = 64 * 1024 * 1024
_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


class SubjectLines:
    """The line on which each subject of a Turtle file is described, found in the file's text
    (rdflib keeps no positions): the first line that begins with the node's IRI, written in
    full or with one of the file's prefixes.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "f.ttl"
    >>> _ = path.write_text("@prefix claim: <urn:c/> .\\n\\n# a comment\\nclaim:one\\n    a <urn:T> .\\n<urn:c/two> a <urn:T> .\\n")
    >>> lines = SubjectLines()
    >>> lines.find(str(path), URIRef("urn:c/one")), lines.find(str(path), URIRef("urn:c/two")), lines.find(str(path), URIRef("urn:x"))
    (4, 6, None)
    """

    def __init__(self) -> None:
        self._files: dict[str, tuple[dict[str, int], list[tuple[str, str]]] | None] = {}

    def _index(self, file: str):
        if file not in self._files:
            self._files[file] = None
            path = Path(file)
            try:
                status = path.stat()
                if path.is_file() and status.st_size <= MAX_LINE_SEARCH_BYTES:
                    self._files[file] = _lines_of(file, status.st_size, status.st_mtime_ns)
            except OSError:
                pass
        return self._files[file]

    def find(self, file: str | None, node: Node) -> int | None:
        """The line ``node`` is described on in ``file``, or ``None``."""
        index = self._index(file) if file and isinstance(node, URIRef) else None
        if index is None:
            return None
        first, prefixes = index
        iri = str(node)
        forms = [f"<{iri}>"] + [f"{name}:{iri[len(ns):]}" for name, ns in prefixes if ns and iri.startswith(ns)]
        found = [first[form] for form in forms if form in first]
        return min(found) if found else None


@lru_cache(maxsize=16)
def _lines_of(file: str, size: int, modified_ns: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The first line of each token that starts a line, and the file's prefixes (longest namespace
    first); kept for the last files asked about (a large validation explains problems part by part),
    and read again when the file's size or time changes."""
    text = Path(file).read_text(encoding="utf-8", errors="replace")
    first: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        token = line.lstrip().split(None, 1)[0] if line.strip() else ""
        if token and token[0] not in "#[]();.,@\"'" and token not in first:
            first[token] = number
    return first, sorted(_PREFIX.findall(text), key=lambda p: -len(p[1]))


def explain(results: Graph, data: Graph, origin: dict[Node, str], only: set[Node] | None = None) -> list[Problem]:
    """One :class:`Problem` per result of a SHACL results graph, about the nodes in ``only`` (all by default).

    Each problem names the file and the line where the node concerned (for a quote or a relay
    step: the claim it belongs to) is described.
    """
    problems = []
    lines = SubjectLines()
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        if only is not None and focus not in only:
            continue
        severity = str(results.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        owner, _ = owner_of(focus, data)
        shape = results.value(result, SH.sourceShape)
        problems.append(
            Problem(
                severity=severity,
                focus=shorten(owner) if owner != focus else shorten(focus),
                focus_label=label_of(focus, data),
                message=str(results.value(result, SH.resultMessage) or "(no message)"),
                path=shorten(results.value(result, SH.resultPath)) if isinstance(results.value(result, SH.resultPath), URIRef) else None,
                # SHACL-SPARQL gives the focus node as the value when a query binds no ?value: not news.
                value=None if results.value(result, SH.value) in (None, focus) else shorten(results.value(result, SH.value)),
                shape=shorten(shape) if isinstance(shape, URIRef) else "(anonymous shape)",
                file=origin.get(owner),
                line=lines.find(origin.get(owner), owner),
            )
        )
    return problems
