"""Checking new facts against a store without re-validating the store: what ``kg add`` does.

A new facts file is validated together with the ontology and with only what it touches in
the store: the triples of every IRI it references (an existing actor, place, period,
measure, event or source, with their blank-node details), and the claims that share a
measure, period and place with its figures (for the cross-source conflict checks). The
result is filtered to the new file's own nodes, so it is the verdict a full validation of
store + file would give for them (``tests/test_incremental.py`` checks that on valid and
invalid files).

Before that, the file must not collide with the store: none of its subjects may already be
described in another graph (another source's claims, the reference data, the ontology). A
file only ever adds or replaces a *source*: the ontology and reference graphs are never
replaced by ``kg add``, and replacing a source already in the store is an explicit act
(``replace=True``, ``kg add --replace``), never a side effect of declaring its IRI. When a
source is replaced, the claims of other sources that point into it are validated again
with the new version, so "conforms" is said of the store that results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph, URIRef

from kg.model.errors import BadInputError, ValidationFailed
from kg.model.namespaces import KG, MANIFEST_GRAPH, RETRACTIONS_GRAPH, SOURCE_TYPES
from kg.model.rdffiles import FactsFile, read_facts_file
from kg.services.keeping import keeping
from kg.services.lifecycle import history_records, is_stored_source
from kg.stores.hashing import file_sha256
from kg.stores.base import now_utc
from kg.validation.explain import own_nodes
from kg.validation.validator import ValidationReport, validate

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
    replaced: list[str] = field(default_factory=list)

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


def neighbourhood(store, facts: FactsFile, exclude: set[URIRef] | None = None) -> Graph:
    """What the store holds about the IRIs the file references, and the figures its figures may conflict with.

    Graphs in ``exclude`` (besides the file's own) are left out: they are being replaced too.
    """
    excluded = {facts.graph_iri, *(exclude or ())}
    defined = {s for s in facts.graph.subjects() if isinstance(s, URIRef)}
    referenced = sorted({o for o in facts.graph.objects() if isinstance(o, URIRef)} - defined)
    graph = store.describe(referenced, exclude_graphs=excluded)
    exclude_filter = " && ".join(f"?g != {g.n3()}" for g in sorted(excluded))
    keys = sorted({
        (facts.graph.value(claim, KG.measure), facts.graph.value(claim, KG.period), facts.graph.value(claim, KG.place))
        for claim in facts.graph.subjects(KG.measure, None)
    } - {(None, None, None)}, key=str)
    keys = [k for k in keys if all(isinstance(t, URIRef) for t in k)]
    for start in range(0, len(keys), 200):
        rows = " ".join(f"({m.n3()} {pe.n3()} {pl.n3()})" for m, pe, pl in keys[start : start + 200])
        # The period first: the selective lookup (Oxigraph's planner keeps written order on ties).
        graph += store.construct(f"""
            CONSTRUCT {{ ?other ?p ?o . ?o <{RDFS.label}> ?label .
                         ?claim_retraction <{KG.retracts}> ?other . ?source_retraction <{KG.retracts}> ?source }} WHERE {{
              VALUES (?measure ?period ?place) {{ {rows} }}
              GRAPH ?g {{ ?other <{KG.period}> ?period ; <{KG.place}> ?place ; <{KG.measure}> ?measure ; ?p ?o . }}
              FILTER ({exclude_filter})
              OPTIONAL {{ FILTER (isIRI(?o)) GRAPH ?labels {{ ?o <{RDFS.label}> ?label }} }}
              # Retracted figures (or sources) are compared with nothing: their retractions come along.
              OPTIONAL {{ GRAPH <{RETRACTIONS_GRAPH}> {{ ?claim_retraction <{KG.retracts}> ?other }} }}
              OPTIONAL {{ GRAPH ?g {{ ?other <{KG.statedIn}> ?source }}
                         GRAPH <{RETRACTIONS_GRAPH}> {{ ?source_retraction <{KG.retracts}> ?source }} }}
            }}""")
    return graph


def _stored_graph(store, iri: URIRef) -> tuple[bool, bool]:
    """Whether the store has this graph, and whether it is a source's (it describes itself as a source)."""
    rows = store.select(f"SELECT ?s WHERE {{ GRAPH {iri.n3()} {{ ?s ?p ?o }} }} LIMIT 1").rows
    return (True, is_stored_source(store, iri)) if rows else (False, False)


def _owned(store, files: list[FactsFile], *, replace: bool) -> list[FactsFile]:
    """Refuse files that would replace what ``kg add`` does not own; return those it would replace.

    Raises:
        BadInputError: A file is the ontology or reference data, names a graph that is not a
            source's, or names a source already stored without ``replace``.
    """
    replaced = []
    hashes = store.file_hashes()
    for facts in files:
        iri = facts.graph_iri
        if not any((iri, RDF.type, kind) in facts.graph for kind in SOURCE_TYPES):
            raise BadInputError(
                f"{facts.path} is not a source's facts file: it describes <{iri}>, which is not a kg:SourceDocument "
                "(the ontology or the reference data). `kg add` adds and replaces sources only; change the ontology "
                "or the reference data in their files and run `kg load`."
            )
        exists, is_source = _stored_graph(store, iri)
        if exists and not is_source:
            raise BadInputError(
                f"{facts.path} declares <{iri}> a source, but that graph in the store is not a source's (it holds "
                "the ontology, the reference data or another dataset). A source's IRI is "
                "https://w3id.org/conflict-kg/id/source/ID; nothing was written."
            )
        if exists and not replace:
            raise BadInputError(
                f"{facts.path} describes <{iri}>, a source already in the store"
                + (" (unchanged: its file's SHA-256 matches)" if hashes.get(str(iri)) == file_sha256(facts.path) else "")
                + ". Replacing a source is an explicit act: run `kg add --replace "
                f"{facts.path}` to replace its facts with this file; nothing was written."
            )
        if exists:
            replaced.append(facts)
    return replaced


def _dependents(store, replaced: set[URIRef]) -> list[FactsFile]:
    """The other stored sources with claims that point at something a replaced source describes, read whole."""
    if not replaced:
        return []
    values = " ".join(g.n3() for g in sorted(replaced))
    rows = store.select(f"""
        SELECT DISTINCT ?other WHERE {{
          VALUES ?replaced {{ {values} }}
          GRAPH ?replaced {{ ?target ?p ?o }}
          FILTER (isIRI(?target))
          GRAPH ?other {{ ?s ?q ?target }}
          FILTER (?other NOT IN ({", ".join(g.n3() for g in sorted(replaced))}, {MANIFEST_GRAPH.n3()}))
          GRAPH ?other {{ ?other a ?type }}
          FILTER (?type IN ({", ".join(t.n3() for t in SOURCE_TYPES)}))
        }} ORDER BY ?other""").rows
    return [FactsFile(path=Path(str(row[0]).rsplit("/", 1)[-1]), graph=store.graph(str(row[0])), graph_iri=URIRef(row[0]))
            for row in rows]


def check_files(store, paths: Iterable[str | Path], *, replace: bool = False) -> AddReport:
    """Check new facts files against a store, reading only what they touch.

    Args:
        store: A :class:`~kg.stores.oxigraph.FactStore` or :class:`~kg.stores.sparql_protocol.RemoteStore`.
        paths: The new files, each a source.
        replace: Allow a file to replace a source already in the store (its corrected
            version); the other sources that point into it are checked again with it.

    Returns:
        The report on the new files' own nodes (and, when replacing, on the claims of
        other sources that point into the replaced ones).

    Raises:
        BadInputError: A file cannot be read, collides with what the store holds, is not a
            source, or would replace a stored source without ``replace``.

    >>> from kg import FactStore
    >>> from kg.model.resources import facts_dir, ontology_path
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
    replaced = _owned(store, files, replace=replace)
    # Claims elsewhere that point into a replaced source are checked again, with its new version.
    dependents = _dependents(store, {f.graph_iri for f in replaced})
    new_graphs = set(graphs) | {d.graph_iri for d in dependents}
    data = Graph()
    context = Graph()
    own: set = set()
    origin: dict = {}
    for facts in [*files, *dependents]:
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
        context += neighbourhood(store, facts, exclude=new_graphs)
        own |= own_nodes(facts.graph)
        where = str(facts.path) if facts in files else f"the stored source <{facts.graph_iri}>"
        for subject in set(facts.graph.subjects()):
            origin.setdefault(subject, where)
    # Context triples about the new files' own subjects come from the graphs being replaced.
    for triple in context:
        if triple[0] not in own:
            data.add(triple)
    report = validate([data], origin=origin, only=own)
    return AddReport(report, {str(f.graph_iri): str(f.path) for f in files}, triples_read=len(context), parsed=files,
                     replaced=[str(f.graph_iri) for f in replaced])


def add_files(store, paths: Iterable[str | Path], *, dry_run: bool = False, replace: bool = False,
              reason: str | None = None) -> AddReport:
    """Check new facts files against a store and, if they conform, write them atomically.

    Args:
        replace: Allow replacing stored sources (see :func:`check_files`); the versions
            replaced are kept in the store's history (:func:`kg.services.lifecycle.history`).
        reason: Why they are replaced (required when one is).

    Raises:
        BadInputError: A source would be replaced without a reason.
        ValidationFailed: A violation was found; nothing was written.
    """
    report = check_files(store, paths, replace=replace)
    if report.replaced and not (reason or "").strip():
        raise BadInputError(
            f"Replacing {', '.join(f'<{g}>' for g in report.replaced)} needs a reason (kg add --replace FILE "
            "--reason TEXT): the history keeps why each version was replaced. Nothing was written.")
    if not report.conforms:
        raise ValidationFailed(report.validation)
    if not dry_run:
        records = history_records(store, [URIRef(g) for g in report.replaced], reason=reason or "", now=now_utc())
        with keeping(store, graphs=[str(f.graph_iri) for f in report.parsed]):
            store.write(report.parsed, records=records)
        report.added = True
    return report
