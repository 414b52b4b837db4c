"""Validating a large corpus in parts, so that memory stays bounded.

pySHACL wants the data as one rdflib graph, which costs about 1.6 kB of memory per
triple: a million triples would need well over 2 GB. Here each file is read with rdflib
once and put into an in-memory Oxigraph store, the *index*: compact, and where the
SHACL-SPARQL constraints run, once each, as in :func:`kg.validation.validator.validate`. Then the
files are taken back out of the index a part at a time (about ``part_bytes`` of Turtle),
and pySHACL checks the core constraints of each part together with what the other files
say about every node the part mentions (their triples, the nodes they point to, and the
blank nodes hanging from them). So a node is judged, in any part that mentions it, on the
data a whole-graph run would use; results are kept for nodes the part's own files mention,
each once. ``tests/test_validation_engines.py`` checks that the report equals the one from
validating everything at once.

Large inputs use every core: the files are parsed by worker processes, and once the index is
built, the parts are checked by workers forked from this process, so that they share the index
instead of each building one. Their results are merged in the order of the parts, so the report
does not depend on how many there are (tested with one and two).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import SH

from kg.model.errors import KgError
from kg.model.rdffiles import read_facts_file
from kg.queries.engines import term_from_oxigraph
from kg.validation.explain import owner_of
from kg.validation.sparql_constraints import (BNODE_IRI, bnode_named_ntriples, evaluate, load_with_bnode_names,
                                              unskolem)

#: Turtle bytes per part: about 170 000 triples of facts, some 300 MB as an rdflib graph.
PART_BYTES = 8_000_000
_FILE_GRAPH = "urn:kg:validating:file:"
_ONTOLOGY_GRAPH = ox.NamedNode("urn:kg:validating:ontology")
#: Blank nodes hang at most this deep below an IRI (claim → evidence → selector → …).
_BNODE_DEPTH = 4


def parts_of(paths: Sequence[Path], part_bytes: int) -> list[list[int]]:
    """Group file positions into consecutive parts of about ``part_bytes`` each.

    >>> parts_of([Path(__file__)] * 3, 1)
    [[0], [1], [2]]
    """
    parts: list[list[int]] = [[]]
    size = 0
    for position, path in enumerate(paths):
        length = path.stat().st_size
        if parts[-1] and size + length > part_bytes:
            parts.append([])
            size = 0
        parts[-1].append(position)
        size += length
    return parts


@contextmanager
def _in_order(function: Callable, items: Sequence, workers: int, *, chunksize: int = 1):
    """``function`` applied to each item, the results in the items' order: by ``workers`` processes forked
    from this one (so they share what it holds) when more than one, else here, one at a time. A worker
    that dies (the system out of memory) is an error, not a wait."""
    if workers <= 1:
        yield map(function, items)
        return
    with ProcessPoolExecutor(min(workers, len(items)), mp_context=multiprocessing.get_context("fork"),
                             initializer=_end_with, initargs=(os.getpid(),)) as pool:
        try:
            yield pool.map(function, items, chunksize=chunksize)
        except BrokenProcessPool:
            raise KgError("Validation stopped: one of its worker processes ended unexpectedly (was the system out "
                          "of memory?). Nothing was written.") from None


def _end_with(parent: int) -> None:
    """In a worker: end when the process that forked it is gone (killed by hand or by the system), instead
    of waiting forever on a queue its siblings still hold open, with the memory it holds."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _named_triples(path: Path) -> str:
    return bnode_named_ntriples(read_facts_file(path).graph)


class Index:
    """Every file in an in-memory Oxigraph store, one named graph per file.

    Files are read with rdflib (the same parse, and the same errors, as a whole-graph run)
    and loaded with their blank nodes named (:func:`kg.validation.sparql_constraints.load_with_bnode_names`),
    so a blank node is the same node in every part and in the SHACL-SPARQL results.
    """

    def __init__(self, paths: Sequence[Path], ontology: Graph, *, workers: int = 1):
        self.paths = list(paths)
        self.store = ox.Store()
        # Parsed by the workers, loaded here in order as they come.
        with _in_order(_named_triples, self.paths, workers, chunksize=4) as parsed:
            for position, triples in enumerate(parsed):
                self.store.load(triples, format=ox.RdfFormat.N_TRIPLES, to_graph=self.file_graph(position))
        load_with_bnode_names(ontology, self.store, to_graph=_ONTOLOGY_GRAPH)

    @staticmethod
    def file_graph(position: int) -> ox.NamedNode:
        return ox.NamedNode(f"{_FILE_GRAPH}{position}")

    @staticmethod
    def _term(node: Node):
        if isinstance(node, BNode):
            return ox.NamedNode(f"{BNODE_IRI}{node}")
        return ox.NamedNode(str(node)) if isinstance(node, URIRef) else None

    @staticmethod
    def _triple(quad) -> tuple[Node, Node, Node]:
        return (unskolem(term_from_oxigraph(quad.subject)), term_from_oxigraph(quad.predicate),
                unskolem(term_from_oxigraph(quad.object)))

    def graph_of(self, positions: Sequence[int]) -> Graph:
        """The files at these positions, as one rdflib graph."""
        graph = Graph()
        for position in positions:
            for quad in self.store.quads_for_pattern(None, None, None, self.file_graph(position)):
                graph.add(self._triple(quad))
        return graph

    def first_file(self, node: Node) -> str | None:
        """The first file (in input order) that describes ``node``, as validate() reports it."""
        term = self._term(node)
        if term is None:
            return None
        positions = {q.graph_name.value for q in self.store.quads_for_pattern(term, None, None)}
        found = [int(g[len(_FILE_GRAPH):]) for g in positions if g.startswith(_FILE_GRAPH)]
        return str(self.paths[min(found)]) if found else None

    def neighbourhood(self, mentioned: set[URIRef], skip: set[ox.NamedNode], into: Graph) -> None:
        """Add to ``into`` what files outside ``skip`` say about ``mentioned`` and the nodes they point to.

        Two hops of IRIs (the nodes, then the types and descriptions of their values), with the
        blank nodes below each.
        """
        seen = set(mentioned)
        frontier = list(mentioned)
        for _ in range(2):
            following: list[URIRef] = []
            for iri in frontier:
                for found in self._describe(ox.NamedNode(str(iri)), skip, into):
                    if found not in seen:
                        seen.add(found)
                        following.append(found)
            frontier = following

    def _describe(self, subject: ox.NamedNode, skip: set[ox.NamedNode], into: Graph, depth: int = 0) -> list[URIRef]:
        objects = []
        for quad in self.store.quads_for_pattern(subject, None, None):
            if quad.graph_name in skip:
                continue
            triple = self._triple(quad)
            into.add(triple)
            if isinstance(triple[2], BNode) and depth < _BNODE_DEPTH:
                objects.extend(self._describe(quad.object, skip, into, depth + 1))
            elif isinstance(triple[2], URIRef):
                objects.append(triple[2])
        return objects

    def context(self, node: Node, into: Graph, depth: int = 0) -> None:
        """Add the triples that lead from an IRI down to ``node``, and the IRI's label (to explain a result)."""
        term = self._term(node)
        if term is None:
            return
        for quad in self.store.quads_for_pattern(term, ox.NamedNode(str(RDFS.label)), None):
            into.add(self._triple(quad))
        if isinstance(node, BNode) and depth <= _BNODE_DEPTH:
            for quad in self.store.quads_for_pattern(None, None, term):
                triple = self._triple(quad)
                into.add(triple)
                self.context(triple[0], into, depth + 1)


def _result_key(results: Graph, result: Node) -> tuple:
    return tuple(results.value(result, p) for p in (SH.focusNode, SH.sourceShape, SH.sourceConstraintComponent,
                                                    SH.resultPath, SH.value, SH.resultMessage, SH.resultSeverity))


@dataclass
class _Work:
    """What every part's check needs; set before the worker processes fork, so they share it."""

    index: Index
    parts: list[list[int]]
    core_shapes: Graph
    ontology: Graph
    explain: Callable[[Graph, Graph, dict[Node, str]], list]


_WORK: _Work | None = None


def _check_part(number: int) -> list[tuple[tuple, BNode, list, list]]:
    """pySHACL's core results for one part's own nodes: ``(key, result, triples, problems)`` for each."""
    work = _WORK
    part = work.parts[number]
    data = work.index.graph_of(part)
    own = {term for triple in data for term in (triple[0], triple[2])}
    mentioned = {term for term in own if isinstance(term, URIRef)}
    work.index.neighbourhood(mentioned, {Index.file_graph(p) for p in part}, data)
    import pyshacl

    _, results, _ = pyshacl.validate(data, shacl_graph=work.core_shapes, ont_graph=work.ontology, inference="none",
                                     allow_warnings=True, advanced=False, inplace=True)
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        key = _result_key(results, result)
        if key[0] not in own:
            continue
        one = Graph()
        for triple in [*results.triples((result, None, None)), *_below(results, result)]:
            one.add(triple)
        owner = owner_of(key[0], data)[0]
        origin = {owner: found_in} if (found_in := work.index.first_file(owner)) else {}
        found.append((key, result, list(one), work.explain(one, data, origin)))
    return found


def workers_for(parts: int, total_bytes: int, part_bytes: int) -> int:
    """How many processes check parts at once: one per core (at most one per part) where the input
    is several parts of full size and the system can fork; else one, in this process.

    >>> workers_for(1, 10**9, 8_000_000)
    1
    """
    if parts < 2 or total_bytes < 2 * part_bytes or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(parts, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def validate_in_parts(paths: Sequence[Path], *, shapes: Graph, core_shapes: Graph, ontology: Graph,
                      explain: Callable[[Graph, Graph, dict[Node, str]], list], part_bytes: int = PART_BYTES,
                      workers: int | None = None):
    """Validate files in parts; return ``(conforms, results_graph, results_text, problems)``.

    Args:
        paths: The Turtle files, validated together.
        shapes: All the shapes; ``core_shapes`` the same without their ``sh:sparql`` constraints.
        ontology: Mixed into each part, as pySHACL's ``ont_graph``.
        explain: Turns ``(results, data, origin)`` into problems, while a part's data is at hand.
        part_bytes: Turtle bytes per part.
        workers: Processes checking parts at once (default: :func:`workers_for`). They are forked
            once the index is built, so they share it; the report is the same for any number.

    :func:`kg.validation.validator.validate` calls it for large inputs, or when given ``part_bytes``:

    >>> from kg.model.resources import facts_dir
    >>> from kg.validation.validator import validate
    >>> report = validate(sorted(facts_dir().glob("*.ttl")), part_bytes=1)
    >>> report.conforms, report.results_text.endswith("in 2 parts, SHACL-SPARQL constraints evaluated by Oxigraph")
    (True, True)
    """
    global _WORK
    paths = [Path(p) for p in paths]
    parts = parts_of(paths, part_bytes)
    if workers is None:
        workers = workers_for(len(parts), sum(p.stat().st_size for p in paths), part_bytes)
    index = Index(paths, ontology, workers=workers)
    report = BNode()
    merged = Graph()
    merged.add((report, RDF.type, SH.ValidationReport))
    kept: set[tuple] = set()
    problems = []
    _WORK = _Work(index, parts, core_shapes, ontology, explain)
    try:
        # In the order of the parts, each result once (a node two parts mention is judged the same in both).
        with _in_order(_check_part, range(len(parts)), workers) as checked:
            for found in checked:
                for key, result, triples, explained in found:
                    if key in kept:
                        continue
                    kept.add(key)
                    for triple in triples:
                        merged.add(triple)
                    merged.add((report, SH.result, result))
                    problems.extend(explained)
    finally:
        _WORK = None
    sparql_results = Graph()
    for triple in evaluate(index.store, shapes):
        sparql_results.add((unskolem(triple[0]), triple[1], unskolem(triple[2])))
    context = Graph()
    for result in sparql_results.subjects(RDF.type, SH.ValidationResult):
        merged.add((report, SH.result, result))
        index.context(sparql_results.value(result, SH.focusNode), context)
    merged += sparql_results
    owners = {owner_of(focus, context)[0] for focus in sparql_results.objects(None, SH.focusNode)}
    problems.extend(explain(sparql_results, context, {owner: found for owner in owners if (found := index.first_file(owner))}))
    violations = any(merged.triples((None, SH.resultSeverity, SH.Violation)))
    merged.add((report, SH.conforms, Literal(not violations)))
    count = len(set(merged.subjects(RDF.type, SH.ValidationResult)))
    text = (f"Validation Report\nConforms: {not violations}\nResults ({count}): core constraints checked by pySHACL "
            f"in {len(parts)} parts, SHACL-SPARQL constraints evaluated by Oxigraph")
    return not violations, merged, text, problems


def _below(graph: Graph, node: Node, depth: int = 0):
    """The triples of the blank nodes a result points to (e.g. a property path)."""
    for _, _, value in graph.triples((node, None, None)):
        if isinstance(value, BNode) and depth < _BNODE_DEPTH:
            yield from graph.triples((value, None, None))
            yield from _below(graph, value, depth + 1)
