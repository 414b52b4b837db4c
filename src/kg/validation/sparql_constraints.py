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
from rdflib import OWL, RDF, BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import SH

from kg.queries.engines import term_from_oxigraph
from kg.queries.sparqltext import hinted_subqueries, located_tokens

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
    store.load(bnode_named_ntriples(graph), format=ox.RdfFormat.N_TRIPLES, to_graph=to_graph or ox.DefaultGraph())


def bnode_named_ntriples(graph: Graph) -> str:
    """The graph as N-Triples, each blank node written as the IRI :func:`load_with_bnode_names` loads."""
    triples = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    triples = _SUBJECT_BNODE.sub(f"<{BNODE_IRI}\\1>", triples)
    return _OBJECT_BNODE.sub(f" <{BNODE_IRI}\\1> .", triples)


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
    constraint: Node = None


def _prefixes(shapes: Graph, constraint: Node) -> str:
    """The PREFIX lines of a constraint: the sh:declare of its sh:prefixes, and of what those owl:imports (transitively)."""
    lines, seen = [], set()
    pending = list(shapes.objects(constraint, SH.prefixes))
    while pending:
        declaring = pending.pop()
        if declaring in seen:
            continue
        seen.add(declaring)
        pending.extend(shapes.objects(declaring, OWL.imports))
        for declaration in shapes.objects(declaring, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines)))


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


#: Pre-bound variables kg does not substitute: constraints that use them are left to pySHACL.
_LEFT_TO_PYSHACL_VARIABLES = {"$PATH", "$currentShape", "$shapesGraph", "?PATH", "?currentShape", "?shapesGraph"}
#: Where SHACL forbids pre-binding (a "Failure"), or a splice would change the meaning: left to pySHACL.
_LEFT_TO_PYSHACL_WORDS = {"MINUS", "VALUES", "SERVICE"}


def _rewrite(select: str) -> list[str] | None:
    """The query with ``$this`` as ``?this``, cut where the target pattern goes, or ``None`` when kg
    leaves it to pySHACL.

    SHACL pre-binds ``$this`` everywhere in the query. Splicing the target pattern (which binds
    ``?this``) gives the same answers where it goes at the start of every group in which ``$this``
    appears directly — the outer group, plain nested groups, UNION branches, subquery bodies —
    because SPARQL evaluates each of those before joining it; inside OPTIONAL and [NOT] EXISTS the
    outer binding is seen already. Found by tokens, so nothing inside strings, IRIs or comments is
    touched. Left to pySHACL: MINUS, VALUES, SERVICE, ``AS $this`` (pre-binding there is a failure in
    SHACL), a subquery that does not project ``$this``, and $PATH, $currentShape, $shapesGraph.

    >>> _rewrite('SELECT $this { $this ?p "$this" } # $this')
    ['SELECT ?this {', ' ?this ?p "$this" } # $this']
    >>> _rewrite('SELECT $this { { FILTER (false) } UNION { FILTER ($this = <x>) } }')
    ['SELECT ?this {', ' { FILTER (false) } UNION {', ' FILTER (?this = <x>) } }']
    """
    text = list(select)
    # Per open bracket: its kind, and where a target pattern would go (after its "{").
    blocks: list[tuple[str, int]] = []
    cuts: set[int] = set()
    previous = ""
    projection: list[str] | None = None  # the variables of a subquery's SELECT clause, while read
    modifiers = False  # right after a subquery's body: its GROUP BY, HAVING, ORDER BY
    for kind, token, offset in located_tokens(select):
        word = token.upper() if kind == "word" else None
        if (kind == "var" and token in _LEFT_TO_PYSHACL_VARIABLES) or word in _LEFT_TO_PYSHACL_WORDS:
            return None
        if word == "SELECT" and blocks:
            projection = []
        if kind == "open":
            modifiers = False
            if token != "{":
                blocks.append(("bracket", -1))
            elif not blocks:
                blocks.append(("outer", offset + 1))
                cuts.add(offset + 1)  # the outer group always binds the focus nodes
            elif projection is not None:
                if "$this" not in projection:
                    return None
                blocks.append(("subquery", offset + 1))
                projection = None
            else:
                blocks.append(({"EXISTS": "exists", "OPTIONAL": "optional"}.get(previous, "group"), offset + 1))
        elif kind == "close":
            closed = blocks.pop()[0] if blocks else None
            modifiers = closed == "subquery"
        elif kind == "var" and token == "$this":
            if previous == "AS":  # assigning the pre-bound variable: a failure in SHACL
                return None
            text[offset] = "?"  # same length: offsets stay valid
            if projection is not None:
                projection.append(token)
            elif not modifiers:
                braces = [block for block in blocks if block[0] != "bracket"]
                if braces and braces[-1][0] in ("group", "subquery"):
                    cuts.add(braces[-1][1])
        if kind != "comment":
            previous = word or token
    if not cuts:
        return None
    rewritten = "".join(text)
    edges = [0, *sorted(cuts), len(rewritten)]
    return [rewritten[start:end] for start, end in zip(edges, edges[1:])]


@dataclass(frozen=True)
class LeftToPyshacl:
    """A SPARQL constraint the fast path does not translate, and why; pySHACL evaluates it."""

    shape: Node
    constraint: Node
    reason: str


def _translate(shapes: Graph, shape: Node, constraint: Node) -> SparqlConstraint | LeftToPyshacl:
    def left(reason: str) -> LeftToPyshacl:
        return LeftToPyshacl(shape, constraint, reason)

    if not isinstance(shape, URIRef):
        return left("its shape is a blank node (nested or property shapes get their focus nodes from another shape)")
    if shapes.value(shape, SH.path) is not None:
        return left("its shape is a property shape ($PATH)")
    select = shapes.value(constraint, SH.select)
    if select is None:
        return left("it has no sh:select")
    targets = _targets(shapes, shape)
    if not targets:
        return left("its shape declares no sh:target* (an implicit class target, or none)")
    pieces = _rewrite(str(select))
    if pieces is None:
        return left("its query uses what pre-binding cannot splice (MINUS, VALUES, SERVICE, AS $this, a subquery "
                    "not projecting $this, $PATH, $currentShape, $shapesGraph) or has no group pattern")
    target = " UNION ".join(f"{{ SELECT DISTINCT ?this WHERE {{ {t} }} }}" for t in targets)
    message = shapes.value(constraint, SH.message) or shapes.value(shape, SH.message) or ""
    severity = shapes.value(constraint, SH.severity) or shapes.value(shape, SH.severity) or SH.Violation
    query = _prefixes(shapes, constraint) + "\n" + f"\n  {target}\n".join(pieces)
    return SparqlConstraint(shape, severity, str(message), hinted_subqueries(query), constraint)


def _deactivated(shapes: Graph, node: Node) -> bool:
    return (node, SH.deactivated, Literal(True)) in shapes


def plan(shapes: Graph) -> tuple[list[SparqlConstraint], list[LeftToPyshacl]]:
    """Each SPARQL-based constraint of the shapes graph, either rewritten to run once over all focus
    nodes, or left to pySHACL with the reason. Deactivated shapes and constraints are in neither."""
    fast, left = [], []
    for shape, constraint in shapes.subject_objects(SH.sparql):
        if _deactivated(shapes, shape) or _deactivated(shapes, constraint):
            continue
        translated = _translate(shapes, shape, constraint)
        (fast if isinstance(translated, SparqlConstraint) else left).append(translated)
    return sorted(fast, key=lambda c: str(c.shape)), left


def constraints(shapes: Graph) -> list[SparqlConstraint]:
    """The SPARQL constraints that run in Oxigraph (see :func:`plan`)."""
    return plan(shapes)[0]


def left_to_pyshacl(shapes: Graph) -> list[LeftToPyshacl]:
    """The SPARQL constraints that pySHACL evaluates (see :func:`plan`)."""
    return plan(shapes)[1]


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
            if constraint.constraint is not None:
                results.add((result, SH.sourceConstraint, constraint.constraint))
            if isinstance(row.get("path"), URIRef):
                results.add((result, SH.resultPath, row["path"]))
            if row.get("value") is not None:
                results.add((result, SH.value, row["value"]))
            elif not isinstance(focus, Literal):
                results.add((result, SH.value, focus))
    return results
