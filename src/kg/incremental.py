"""Checking new facts against a store without re-validating the store: what ``kg add`` does.

A new facts file is validated together with the ontology and with only what it touches in
the store: the triples of every IRI it references (an existing actor, place, period,
measure, event or source, with their blank-node details), and the claims that share a
measure, period and place with its figures (for the cross-source conflict checks). The
result is filtered to the new file's own nodes, so it is the verdict a full validation of
store + file would give for them (``tests/test_incremental.py`` checks that on valid and
invalid files).

Before that, the file must not collide with the store: none of its subjects may already be
described in another graph (another source's claims, the reference data, the ontology).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDFS, BNode, Graph, URIRef

from kg.errors import BadInputError, ValidationFailed
from kg.namespaces import KG
from kg.rdffiles import FactsFile, read_facts_file
from kg.store import MANIFEST_GRAPH
from kg.validate import ValidationReport, validate

#: How many colliding IRIs a message lists before "and N more".
_SHOWN = 5


@dataclass
class AddReport:
    """The outcome of checking (and perhaps adding) new facts files.

    Attributes:
        validation: The report on the new files' nodes.
        files: The files checked, by graph IRI.
        triples_read: How many triples were read from the store to check them.
        added: Whether the files were written to the store.
        parsed: The files as parsed for the check (written as they are, not parsed again).
    """

    validation: ValidationReport
    files: dict[str, str] = field(default_factory=dict)
    triples_read: int = 0
    added: bool = False
    parsed: list[FactsFile] = field(default_factory=list, repr=False)

    @property
    def conforms(self) -> bool:
        return self.validation.conforms


def _values(terms: Iterable[URIRef]) -> str:
    return " ".join(term.n3() for term in terms)


def collisions(store, facts: FactsFile) -> list[tuple[URIRef, URIRef]]:
    """Subjects of the file already described in another graph of the store, with that graph."""
    subjects = sorted({s for s in facts.graph.subjects() if isinstance(s, URIRef)})
    found: list[tuple[URIRef, URIRef]] = []
    for start in range(0, len(subjects), 500):
        chunk = subjects[start : start + 500]
        rows = store.select(f"""
            SELECT DISTINCT ?s ?g WHERE {{
              VALUES ?s {{ {_values(chunk)} }}
              GRAPH ?g {{ ?s ?p ?o }}
              FILTER (?g != {facts.graph_iri.n3()} && ?g != {MANIFEST_GRAPH.n3()})
            }} ORDER BY ?s ?g""")
        found.extend((URIRef(s), URIRef(g)) for s, g in rows.rows)
    return found


def neighbourhood(store, facts: FactsFile) -> Graph:
    """What the store holds about the IRIs the file references, and the figures its figures may conflict with."""
    defined = {s for s in facts.graph.subjects() if isinstance(s, URIRef)}
    referenced = sorted({o for o in facts.graph.objects() if isinstance(o, URIRef)} - defined)
    graph = store.describe(referenced, exclude_graph=facts.graph_iri)
    exclude = facts.graph_iri.n3()
    keys = sorted({
        (facts.graph.value(claim, KG.measure), facts.graph.value(claim, KG.period), facts.graph.value(claim, KG.place))
        for claim in facts.graph.subjects(KG.measure, None)
    } - {(None, None, None)}, key=str)
    keys = [k for k in keys if all(isinstance(t, URIRef) for t in k)]
    for start in range(0, len(keys), 200):
        rows = " ".join(f"({m.n3()} {pe.n3()} {pl.n3()})" for m, pe, pl in keys[start : start + 200])
        # The period first: the selective lookup (Oxigraph's planner keeps written order on ties).
        graph += store.construct(f"""
            CONSTRUCT {{ ?other ?p ?o . ?o <{RDFS.label}> ?label }} WHERE {{
              VALUES (?measure ?period ?place) {{ {rows} }}
              GRAPH ?g {{ ?other <{KG.period}> ?period ; <{KG.place}> ?place ; <{KG.measure}> ?measure ; ?p ?o . }}
              FILTER (?g != {exclude})
              OPTIONAL {{ FILTER (isIRI(?o)) GRAPH ?labels {{ ?o <{RDFS.label}> ?label }} }}
            }}""")
    return graph


def _own_nodes(graph: Graph) -> set:
    nodes = {s for s in graph.subjects()}
    nodes |= {o for o in graph.objects() if isinstance(o, BNode)}
    return nodes


def check_files(store, paths: Iterable[str | Path]) -> AddReport:
    """Check new facts files against a store, reading only what they touch.

    Args:
        store: A :class:`~kg.store.FactStore` or :class:`~kg.endpoint.RemoteStore`.
        paths: The new files (each a source, replacing its graph if already loaded).

    Returns:
        The report on the new files' own nodes.

    Raises:
        BadInputError: A file cannot be read, or collides with what the store holds.

    >>> from kg import FactStore
    >>> from kg.resources import facts_dir, ontology_path
    >>> store = FactStore.in_memory(); _ = store.load([ontology_path(), facts_dir() / "reference.ttl"])
    >>> report = check_files(store, [facts_dir() / "newsweek-isis-attacks-2024.ttl"])
    >>> report.conforms, report.triples_read < 400
    (True, True)
    """
    files = [read_facts_file(path) for path in paths]
    if not files:
        raise BadInputError("No files to add.")
    graphs = {}
    for facts in files:
        if facts.graph_iri in graphs:
            raise BadInputError(f"{facts.path} and {graphs[facts.graph_iri]} describe the same source {facts.graph_iri}.")
        graphs[facts.graph_iri] = facts.path
    new_graphs = set(graphs)
    data = Graph()
    context = Graph()
    own: set = set()
    origin: dict = {}
    for facts in files:
        clashes = [(s, g) for s, g in collisions(store, facts) if g not in new_graphs]
        if clashes:
            listed = "; ".join(f"{s} (already in <{g}>)" for s, g in clashes[:_SHOWN])
            more = f"; and {len(clashes) - _SHOWN} more" if len(clashes) > _SHOWN else ""
            raise BadInputError(
                f"{facts.path} describes things already described elsewhere in the store: {listed}{more}. "
                "A source file may only describe its own source, claims and new things; shared actors, places, "
                "periods and measures belong in the reference data, and ontology terms in the ontology. "
                "Mint new IRIs under the source's own namespace, or edit the file that owns them."
            )
        data += facts.graph
        context += neighbourhood(store, facts)
        own |= _own_nodes(facts.graph)
        for subject in set(facts.graph.subjects()):
            origin.setdefault(subject, str(facts.path))
    # Context triples about the new files' own subjects come from the graphs being replaced.
    for triple in context:
        if triple[0] not in own:
            data.add(triple)
    report = validate([data], origin=origin, only=own)
    return AddReport(report, {str(f.graph_iri): str(f.path) for f in files}, triples_read=len(context), parsed=files)


def add_files(store, paths: Iterable[str | Path], *, dry_run: bool = False) -> AddReport:
    """Check new facts files against a store and, if they conform, write them atomically.

    Raises:
        ValidationFailed: A violation was found; nothing was written.
    """
    report = check_files(store, paths)
    if not report.conforms:
        raise ValidationFailed(report.validation)
    if not dry_run:
        store.write(report.parsed)
        report.added = True
    return report
