"""SHACL-SPARQL constraints evaluated by Oxigraph instead of rdflib's SPARQL engine.

pySHACL checks core constraints by graph lookups, but runs each ``sh:sparql`` constraint
once per focus node through rdflib's single-threaded SPARQL engine: on a few thousand
claims that is most of the validation time. Here each SPARQL constraint runs once, as one
query over the whole graph in Oxigraph: its target becomes a pattern that binds ``?this``
at the start of the constraint's WHERE clause (the same pre-binding SHACL specifies), and
each solution becomes a validation result with the shape's message, severity and
``?value``. :func:`kg.validation.validator.validate` uses it for the SPARQL shapes and pySHACL for the
rest; ``tests/test_validation_engines.py`` checks that both give identical reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import SH

from kg.queries.engines import term_from_oxigraph

_WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
#: Oxigraph relabels the blank nodes it parses; loading them as these IRIs keeps rdflib's names.
BNODE_IRI = "urn:kg:bnode:"
_SUBJECT_BNODE = re.compile(r"^_:(\S+)", re.MULTILINE)
_OBJECT_BNODE = re.compile(r" _:(\S+) \.$", re.MULTILINE)


def load_with_bnode_names(graph: Graph, store: ox.Store, *, to_graph: ox.NamedNode | None = None) -> None:
    """Load an rdflib graph into Oxigraph, each blank node as an IRI that keeps its rdflib name.

    >>> g = Graph(); _ = g.add((BNode("b1"), RDF.type, URIRef("urn:x")))
    >>> store = ox.Store(); load_with_bnode_names(g, store)
    >>> [unskolem(term_from_oxigraph(q.subject)) for q in store]
    [rdflib.term.BNode('b1')]
    """
    triples = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    triples = _SUBJECT_BNODE.sub(f"<{BNODE_IRI}\\1>", triples)
    triples = _OBJECT_BNODE.sub(f" <{BNODE_IRI}\\1> .", triples)
    store.load(triples, format=ox.RdfFormat.N_TRIPLES, to_graph=to_graph or ox.DefaultGraph())


def unskolem(term: Node) -> Node:
    """The rdflib blank node behind an IRI made by :func:`load_with_bnode_names`; other terms unchanged."""
    if isinstance(term, URIRef) and term.startswith(BNODE_IRI):
        return BNode(term[len(BNODE_IRI):])
    return term


_RDFS_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"


@dataclass(frozen=True)
class SparqlConstraint:
    """One ``sh:sparql`` constraint of a node shape, ready to run over a whole graph."""

    shape: URIRef
    severity: URIRef
    message: str
    query: str


def _prefixes(shapes: Graph, constraint: Node) -> str:
    lines = []
    for declaring in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(declaring, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def _targets(shapes: Graph, shape: Node) -> list[str]:
    patterns = []
    for cls in shapes.objects(shape, SH.targetClass):
        patterns.append(f"?this a ?kg_target_type . ?kg_target_type {_RDFS_SUBCLASS}* <{cls}> .")
    for prop in shapes.objects(shape, SH.targetObjectsOf):
        patterns.append(f"?kg_target_subject <{prop}> ?this .")
    for prop in shapes.objects(shape, SH.targetSubjectsOf):
        patterns.append(f"?this <{prop}> ?kg_target_object .")
    for node in shapes.objects(shape, SH.targetNode):
        patterns.append(f"BIND ({node.n3()} AS ?this)")
    return patterns


def constraints(shapes: Graph) -> list[SparqlConstraint]:
    """Every SPARQL-based constraint of the shapes graph, rewritten to run once over all focus nodes."""
    found = []
    for shape, constraint in shapes.subject_objects(SH.sparql):
        if not isinstance(shape, URIRef) or (constraint, SH.deactivated, Literal(True)) in shapes:
            continue
        select = str(shapes.value(constraint, SH.select))
        targets = _targets(shapes, shape)
        if not targets:
            continue
        target = " UNION ".join(f"{{ SELECT DISTINCT ?this WHERE {{ {t} }} }}" for t in targets)
        body = re.sub(r"\$this\b", "?this", select)
        match = _WHERE_OPEN.search(body)
        query = body[: match.end()] + f"\n  {target}\n" + body[match.end() :]
        message = shapes.value(constraint, SH.message) or shapes.value(shape, SH.message) or ""
        severity = shapes.value(shape, SH.severity) or SH.Violation
        found.append(SparqlConstraint(shape, severity, str(message), _prefixes(shapes, constraint) + "\n" + query))
    return sorted(found, key=lambda c: str(c.shape))


@lru_cache(maxsize=4)
def _cached_constraints(shapes_id: int, shapes: Graph) -> tuple[SparqlConstraint, ...]:
    return tuple(constraints(shapes))


def _text(term: Node | None) -> str:
    if term is None:
        return ""
    return str(term)


def evaluate(store: ox.Store, shapes: Graph) -> Graph:
    """Run every SPARQL constraint over the store's union graph; return SHACL validation results.

    Returns:
        A graph of ``sh:ValidationResult`` nodes (focus node, value, severity, message,
        source shape, constraint component), shaped as pySHACL writes them.
    """
    results = Graph()
    for constraint in _cached_constraints(id(shapes), shapes):
        solutions = store.query(constraint.query, use_default_graph_as_union=True)
        variables = [v.value for v in solutions.variables]
        seen = set()
        for solution in solutions:
            row = {v: term_from_oxigraph(solution[v]) for v in variables}
            focus = row.get("this")
            if focus is None:
                continue
            message = re.sub(r"\{[?$](\w+)\}", lambda m: _text(row.get(m.group(1))), constraint.message)
            key = (focus, message, row.get("value"))
            if key in seen:
                continue
            seen.add(key)
            result = BNode()
            results.add((result, RDF.type, SH.ValidationResult))
            results.add((result, SH.focusNode, focus))
            results.add((result, SH.resultSeverity, constraint.severity))
            results.add((result, SH.sourceShape, constraint.shape))
            results.add((result, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent))
            results.add((result, SH.resultMessage, Literal(message)))
            if row.get("value") is not None:
                results.add((result, SH.value, row["value"]))
            elif not isinstance(focus, Literal):
                results.add((result, SH.value, focus))
    return results
