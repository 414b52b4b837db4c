"""Validation results in words: each problem's file, focus node and its label, message and rule.

A blank node (a quote selector, a relay step) is explained through the IRI it hangs from, so
a problem always names something a person can find in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    severity: str
    focus: str
    focus_label: str
    message: str
    path: str | None
    value: str | None
    shape: str
    file: str | None

    def to_text(self) -> str:
        where = f"{self.file}: " if self.file else ""
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


def explain(results: Graph, data: Graph, origin: dict[Node, str], only: set[Node] | None = None) -> list[Problem]:
    """One :class:`Problem` per result of a SHACL results graph, about the nodes in ``only`` (all by default)."""
    problems = []
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
                value=shorten(results.value(result, SH.value)),
                shape=shorten(shape) if isinstance(shape, URIRef) else "(anonymous shape)",
                file=origin.get(owner),
            )
        )
    return problems
