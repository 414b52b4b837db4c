"""Validating facts with pySHACL against the project's shapes and ontology.

Like :func:`pyshacl.validate`, :func:`validate` returns something that unpacks to
``(conforms, results_graph, results_text)``; it also explains each problem in words:
the file, the focus node and its label, the rule's message and the offending value.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, Node
from rdflib.namespace import SH

from kg.model.rdffiles import FactsFile, read_facts_file, read_turtle
from kg.model.resources import ontology_path, shapes_path
from kg.validation.explain import DANGLING_SHAPE, SEVERITIES, Problem, explain
from kg.validation.parts import PART_BYTES, validate_in_parts

@dataclass
class ValidationReport:
    """The outcome of a validation.

    Attributes:
        conforms: True when there is no violation (warnings do not fail validation).
        results_graph: pySHACL's validation report graph (for tools).
        results_text: pySHACL's own text report.
        problems: Each result explained, violations first.
    """

    conforms: bool
    results_graph: Graph
    results_text: str
    problems: list[Problem] = field(default_factory=list)

    def __iter__(self):
        return iter((self.conforms, self.results_graph, self.results_text))

    def counts(self) -> dict[str, int]:
        """Number of problems per severity, every severity listed.

        >>> ValidationReport(True, Graph(), "").counts()
        {'Violation': 0, 'Warning': 0, 'Info': 0}
        """
        counted = Counter(problem.severity for problem in self.problems)
        return {severity: counted.get(severity, 0) for severity in SEVERITIES}

    def summary(self) -> str:
        counts = self.counts()
        verdict = "conforms" if self.conforms else "does not conform"
        parts = ", ".join(f"{n} {severity.lower()}{'s' if n != 1 else ''}" for severity, n in counts.items())
        return f"Validation {verdict}: {parts}"

    def to_text(self) -> str:
        """The report for people: one block per problem, then the counts."""
        blocks = [problem.to_text() for problem in self.problems]
        return "\n\n".join([*blocks, self.summary()])

    def to_json(self) -> str:
        """The report for tools, as JSON."""
        return json.dumps(
            {
                "conforms": self.conforms,
                "counts": self.counts(),
                "problems": [problem.__dict__ for problem in self.problems],
            },
            indent=2,
        )

    def to_turtle(self) -> str:
        """pySHACL's validation report graph, as Turtle."""
        return self.results_graph.serialize(format="turtle")


@lru_cache(maxsize=1)
def _default_shapes() -> Graph:
    return read_turtle(shapes_path())


@lru_cache(maxsize=1)
def _default_ontology() -> Graph:
    return read_turtle(ontology_path())


def validate(
    data: Iterable[str | Path | FactsFile | Graph] | Graph,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    origin: dict[Node, str] | None = None,
    only: set[Node] | None = None,
    engine: str = "oxigraph",
    part_bytes: int | None = None,
) -> ValidationReport:
    """Validate facts against the kg shapes, with the kg ontology mixed in.

    Args:
        data: Files (paths or :class:`~kg.model.rdffiles.FactsFile`) or graphs to validate
            together, or a single graph.
        shapes: The shapes graph; the project's ``ontology/shapes.ttl`` by default.
        ontology: The ontology graph; the project's ``ontology/kg.ttl`` by default.
        origin: Which file each subject came from, where ``data`` holds graphs.
        only: Report only results whose focus node is one of these (and judge
            conformance on them alone): for validating new facts in their context.
        engine: ``oxigraph`` (the default) has pySHACL check the core constraints and
            Oxigraph evaluate the SHACL-SPARQL ones, each once over the whole graph;
            ``pyshacl`` leaves everything to pySHACL. Both give the same report (tested).
        part_bytes: With the ``oxigraph`` engine, files larger than this in total (by
            default :data:`kg.validation.parts.PART_BYTES`) are validated in parts of about this
            size, so memory stays bounded; the report is the same (tested).

    Returns:
        The report; it unpacks to ``(conforms, results_graph, results_text)``.

    Raises:
        BadInputError: A file cannot be read.

    >>> from kg.model.resources import facts_dir
    >>> conforms, results_graph, text = validate(sorted(facts_dir().glob("*.ttl")))
    >>> conforms
    True
    """
    items = [data] if isinstance(data, Graph) else list(data)
    shapes = shapes if shapes is not None else _default_shapes()
    ontology = ontology if ontology is not None else _default_ontology()
    if engine == "oxigraph" and not origin and all(isinstance(i, (str, Path, FactsFile)) for i in items):
        paths = [Path(i.path if isinstance(i, FactsFile) else i) for i in items]
        limit = part_bytes if part_bytes is not None else PART_BYTES
        if sum(p.stat().st_size for p in paths if p.is_file()) > limit and all(p.is_file() for p in paths):
            conforms, results_graph, results_text, problems = validate_in_parts(
                paths, shapes=shapes, core_shapes=_core_shapes(shapes), ontology=ontology, part_bytes=limit,
                explain=lambda results, graph, where: explain(results, graph, where, only))
            return _report(conforms, results_graph, results_text, problems, only)
    combined = Graph()
    origin = dict(origin or {})
    for item in items:
        if isinstance(item, Graph):
            graph, name = item, None
        else:
            # A FactsFile from sniff_facts_file() has no graph yet: read it now.
            facts = item if isinstance(item, FactsFile) and len(item.graph) else read_facts_file(getattr(item, "path", item))
            graph, name = facts.graph, str(facts.path)
        for triple in graph:
            combined.add(triple)
        if name is not None:
            for subject in set(graph.subjects()):
                origin.setdefault(subject, name)
    if engine == "pyshacl":
        import pyshacl  # here, not at the top: commands that never validate start without it

        conforms, results_graph, results_text = pyshacl.validate(
            combined, shacl_graph=shapes, ont_graph=ontology, inference="none", allow_warnings=True, advanced=False)
    elif engine == "oxigraph":
        conforms, results_graph, results_text = _validate_hybrid(combined, shapes, ontology)
    else:
        raise ValueError(f"unknown validation engine {engine!r}: use 'oxigraph' or 'pyshacl'")
    return _report(conforms, results_graph, results_text, explain(results_graph, combined, origin, only), only)


def _report(conforms: bool, results_graph: Graph, results_text: str, problems: list[Problem],
            only: set[Node] | None) -> ValidationReport:
    # A link to something described nowhere also fails the link's class rule: say it once, as the dangling link.
    dangling = {(p.focus, p.value) for p in problems if p.shape == DANGLING_SHAPE}
    problems = [p for p in problems if p.shape == DANGLING_SHAPE or (p.focus, p.value) not in dangling]
    if only is not None:
        conforms = not any(problem.severity == "Violation" for problem in problems)
        results_graph = _results_about(results_graph, only, conforms)
        kept = len(set(results_graph.subjects(RDF.type, SH.ValidationResult)))
        results_text = (f"Validation Report\nConforms: {conforms}\nResults ({kept}): about the {len(only)} nodes "
                        "checked; results about their context are left out")
    order = {severity: i for i, severity in enumerate(SEVERITIES)}
    problems.sort(key=lambda p: (order.get(p.severity, 9), p.file or "", p.focus, p.shape, p.message))
    return ValidationReport(bool(conforms), results_graph, results_text, problems)


def _results_about(results: Graph, nodes: set[Node], conforms: bool) -> Graph:
    """The SHACL report keeping only the results whose focus node is one of ``nodes``, with its verdict on them.

    >>> from rdflib import BNode, URIRef
    >>> g = Graph(); report, r = BNode(), BNode()
    >>> for t in [(report, RDF.type, SH.ValidationReport), (report, SH.result, r), (r, RDF.type, SH.ValidationResult),
    ...           (r, SH.focusNode, URIRef("urn:other"))]: _ = g.add(t)
    >>> kept = _results_about(g, {URIRef("urn:mine")}, True)
    >>> len(set(kept.subjects(RDF.type, SH.ValidationResult))), kept.value(next(kept.subjects(RDF.type, SH.ValidationReport)), SH.conforms)
    (0, rdflib.term.Literal('true', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#boolean')))
    """
    kept = Graph()
    for prefix, namespace in results.namespaces():
        kept.bind(prefix, namespace)
    report = next(results.subjects(RDF.type, SH.ValidationReport), None) or BNode()
    kept.add((report, RDF.type, SH.ValidationReport))
    kept.add((report, SH.conforms, Literal(conforms)))
    for result in results.subjects(RDF.type, SH.ValidationResult):
        if results.value(result, SH.focusNode) not in nodes:
            continue
        kept.add((report, SH.result, result))
        pending, seen = [result], set()
        while pending:  # the result with its blank-node details (paths, nested results)
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            for triple in results.triples((node, None, None)):
                kept.add(triple)
                if isinstance(triple[2], BNode):
                    pending.append(triple[2])
    return kept


_CORE_SHAPES: dict[int, Graph] = {}


def _core_shapes(shapes: Graph) -> Graph:
    """The shapes without the SHACL-SPARQL constraints that run in Oxigraph (those it cannot
    translate stay, for pySHACL: :func:`kg.validation.sparql_constraints.plan`)."""
    from kg.validation.sparql_constraints import constraints

    key = id(shapes)
    if key not in _CORE_SHAPES:
        fast = {(c.shape, c.constraint) for c in constraints(shapes)}
        core = Graph()
        for triple in shapes:
            if triple[1] != SH.sparql or (triple[0], triple[2]) not in fast:
                core.add(triple)
        _CORE_SHAPES.clear()
        _CORE_SHAPES[key] = core
    return _CORE_SHAPES[key]


def _validate_hybrid(data: Graph, shapes: Graph, ontology: Graph) -> tuple[bool, Graph, str]:
    """pySHACL for core constraints, Oxigraph for SPARQL constraints, one report."""
    import pyoxigraph as ox

    from kg.validation.sparql_constraints import evaluate, load_with_bnode_names, unskolem

    import pyshacl

    _, results_graph, results_text = pyshacl.validate(
        data, shacl_graph=_core_shapes(shapes), ont_graph=ontology, inference="none", allow_warnings=True,
        advanced=False, inplace=True)  # ``data`` is validate()'s own merged copy: mixing the ontology into it is fine
    store = ox.Store()
    load_with_bnode_names(data, store)  # so that results point at rdflib's blank nodes
    sparql_results = Graph()
    for s_, p_, o_ in evaluate(store, shapes):
        sparql_results.add((unskolem(s_), p_, unskolem(o_)))
    report = results_graph.value(predicate=RDF.type, object=SH.ValidationReport, any=True)
    for result in sparql_results.subjects(RDF.type, SH.ValidationResult):
        if report is not None:
            results_graph.add((report, SH.result, result))
    results_graph += sparql_results
    violations = any(results_graph.triples((None, SH.resultSeverity, SH.Violation)))
    if report is not None:
        results_graph.set((report, SH.conforms, Literal(not violations)))
    extra = len(set(sparql_results.subjects(RDF.type, SH.ValidationResult)))
    return not violations, results_graph, f"{results_text}\n(+ {extra} results of SHACL-SPARQL constraints, evaluated by Oxigraph)"
