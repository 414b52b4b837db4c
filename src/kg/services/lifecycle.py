"""A source's life in the store: removed, replaced with history kept, retracted; sources whose file is gone.

Written over the operations both stores share (``select``, ``graphs``, ``graph``, ``update``,
``remove_graphs``), so the embedded store and any SPARQL endpoint behave alike. Each change
is one SPARQL Update (one transaction), and a refused one changes nothing.

- **History.** When ``kg add --replace`` replaces a source, the version it replaces is kept in
  kg's history graph as a ``kg:SourceVersion`` (PROV: ``prov:specializationOf`` the source,
  ``prov:wasRevisionOf`` the version before it): its content hash, file, when it was loaded and
  replaced, the reason given, and its triples as N-Triples. Answers come from the current
  version only: the history graph is bookkeeping, never queried as data.
- **Retraction.** ``kg retract`` records a ``kg:Retraction`` of a claim or of a whole source
  (reason, date) in the retractions graph. The claims stay in the store; every stored query
  leaves them out unless given ``include_retracted=yes``, and the ``retracted`` query lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, XSD

from kg.model.errors import BadInputError, KgError
from kg.model.namespaces import (BASE, HISTORY_GRAPH, KG, MANIFEST_GRAPH, RETRACTIONS_GRAPH, SLUG, SOURCE_TYPES, VOID,
                           claim_iri, claim_name)
from kg.services.keeping import keeping


class ReferencedSourceError(KgError):
    """Claims of other sources point at the claims of a source to be removed."""


@dataclass
class RemovalReport:
    """What a removal did or would do.

    Attributes:
        removed: The graphs removed (or that would be, with ``dry_run``).
        triples: Their triples, by graph.
        references: Links from other sources into them: (claim, property, target).
    """

    removed: list[str] = field(default_factory=list)
    triples: dict[str, int] = field(default_factory=dict)
    references: list[tuple[str, str, str]] = field(default_factory=list)


def source_iri(name: str | Path) -> URIRef:
    """A source named by its id (``fictional-monitor-2024``), ``source:ID``, its IRI, or its facts file.

    >>> source_iri("source:fictional-monitor-2024")
    rdflib.term.URIRef('https://w3id.org/conflict-kg/id/source/fictional-monitor-2024')

    Raises:
        BadInputError: The name is none of these.
    """
    text = str(name).strip()
    if text.endswith(".ttl") and Path(text).is_file():
        from kg.model.rdffiles import sniff_facts_file

        return sniff_facts_file(text).graph_iri
    if text.startswith("source:"):
        text = text[len("source:"):]
    if text.startswith(BASE + "id/source/"):
        return URIRef(text)
    if SLUG.fullmatch(text):
        return URIRef(f"{BASE}id/source/{text}")
    raise BadInputError(f"{text[:120]!r} names no source: give its id (e.g. fictional-monitor-2024), source:ID, "
                        "its IRI or its facts file.")


def is_stored_source(store, iri: URIRef) -> bool:
    """Whether the store's graph ``iri`` is a source's: it describes itself as a source document."""
    types = ", ".join(t.n3() for t in SOURCE_TYPES)
    rows = store.select(f"SELECT ?t WHERE {{ GRAPH <{iri}> {{ <{iri}> a ?t FILTER (?t IN ({types})) }} }} LIMIT 1")
    return bool(rows.rows)


def references_into(store, graphs: list[URIRef]) -> list[tuple[str, str, str]]:
    """Links from other graphs to things the given graphs describe (their claims, their own actors…)."""
    if not graphs:
        return []
    values = " ".join(f"<{g}>" for g in graphs)
    rows = store.select(f"""
        SELECT DISTINCT ?s ?p ?target WHERE {{
          VALUES ?removed {{ {values} }}
          GRAPH ?removed {{ ?target ?described ?anything }}
          FILTER (isIRI(?target) && ?target NOT IN ({", ".join(f"<{g}>" for g in graphs)}))
          GRAPH ?other {{ ?s ?p ?target }}
          FILTER (?other NOT IN ({", ".join(f"<{g}>" for g in graphs)}, <{MANIFEST_GRAPH}>, <{HISTORY_GRAPH}>,
                                 <{RETRACTIONS_GRAPH}>))
          FILTER NOT EXISTS {{ GRAPH ?elsewhere {{ ?target ?q ?r }}
                               FILTER (?elsewhere NOT IN ({", ".join(f"<{g}>" for g in graphs)})) }}
        }} ORDER BY ?s ?p ?target""").rows
    return [(str(s), str(p), str(t)) for s, p, t in rows]


def remove_sources(store, names: list[str | Path], *, dry_run: bool = False, force: bool = False) -> RemovalReport:
    """Remove sources (their graphs and manifest records) in one transaction.

    Args:
        store: A :class:`~kg.stores.oxigraph.FactStore` or :class:`~kg.stores.sparql_protocol.RemoteStore`.
        names: The sources (see :func:`source_iri`).
        dry_run: Say what would be removed; change nothing.
        force: Remove even when other sources' claims point into them (those links then
            point at nothing, and validation says so).

    Raises:
        BadInputError: A name is not a stored source (the ontology and reference data are not sources).
        ReferencedSourceError: Other sources point into them and ``force`` is not given; nothing changed.

    >>> from kg import FactStore
    >>> store = FactStore.in_memory(); _ = store.load()
    >>> remove_sources(store, ["newsweek-isis-attacks-2024"], dry_run=True).removed
    ['https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024']
    """
    graphs = store.graphs()
    iris = list(dict.fromkeys(source_iri(name) for name in names))
    for iri in iris:
        if str(iri) not in graphs:
            raise BadInputError(f"<{iri}> is not in the store; `kg stats` lists the stored sources.")
        if not is_stored_source(store, iri):
            raise BadInputError(f"<{iri}> is not a source (it holds the ontology or reference data): kg remove "
                                "removes sources only.")
    report = RemovalReport(removed=[str(i) for i in iris], triples={str(i): graphs[str(i)] for i in iris},
                           references=references_into(store, iris))
    if report.references and not force:
        shown = "; ".join(f"{s} {p} {t}" for s, p, t in report.references[:5])
        more = f"; and {len(report.references) - 5} more" if len(report.references) > 5 else ""
        raise ReferencedSourceError(
            f"Other sources point at what {', '.join(f'<{i}>' for i in iris)} describe{'s' if len(iris) == 1 else ''}: "
            f"{shown}{more}. Nothing was removed. Remove or correct those links first (kg add --replace), remove "
            "those sources too, or give --force to remove anyway (the links then point at nothing)."
        )
    if not dry_run and report.references:
        # Forced: the links left dangling make the store no longer known to conform (the next load validates all).
        from kg.stores.base import forget_validation_update, remove_graphs_update

        with keeping(store, graphs=report.removed):
            store.update(forget_validation_update() + " ;\n" + remove_graphs_update([str(i) for i in iris]))
    elif not dry_run:
        with keeping(store, graphs=report.removed):
            store.remove_graphs([str(i) for i in iris])
    return report


def orphaned_sources(store, folder: Path) -> dict[str, str]:
    """Stored sources whose recorded file lay in ``folder`` and is gone, by graph IRI (with that file)."""
    files = store.files()
    folder = folder.resolve()
    gone = {}
    for graph, file in files.items():
        path = Path(file)
        path = path if path.is_absolute() else Path.cwd() / path
        if path.resolve().parent == folder and not path.exists():
            gone[graph] = file
    return gone


# --- history of replaced sources --------------------------------------------------------

@dataclass(frozen=True)
class Version:
    """One version of a source: an earlier one kept in the history graph, or the current one.

    Attributes:
        number: 1 for the first version loaded, counting up; the current version is the last.
        sha256: The content hash of the file it was loaded from.
        file: That file, as recorded.
        loaded: When it was loaded (ISO 8601).
        replaced: When it was replaced (``None`` for the current version).
        reason: Why it was replaced (``None`` for the current version).
        triples: How many triples it holds.
        iri: The version's IRI in the history graph (``None`` for the current version).
    """

    number: int
    sha256: str | None
    file: str | None
    loaded: str | None
    replaced: str | None = None
    reason: str | None = None
    triples: int = 0
    iri: str | None = None


def _source_id(iri: URIRef) -> str:
    return str(iri).rsplit("/", 1)[-1]


def _earlier_versions(store, iri: URIRef) -> list[Version]:
    rows = store.select(f"""
        SELECT ?v ?id ?file ?loaded ?replaced ?reason ?triples WHERE {{ GRAPH <{HISTORY_GRAPH}> {{
          ?v <{PROV.specializationOf}> <{iri}> ; <{DCTERMS.identifier}> ?id ; <{PROV.invalidatedAtTime}> ?replaced ;
             <{KG.reason}> ?reason ; <{VOID.triples}> ?triples .
          OPTIONAL {{ ?v <{PROV.wasDerivedFrom}> ?file }}
          OPTIONAL {{ ?v <{PROV.generatedAtTime}> ?loaded }}
        }} }}""").rows
    versions = []
    for v, digest, file, loaded, replaced, reason, triples in rows:
        number = str(v).rsplit("/", 1)[-1]
        if not number.isdigit():
            continue  # not a version kg wrote
        versions.append(Version(int(number), str(digest).removeprefix("sha256:"), None if file is None else str(file),
                                None if loaded is None else str(loaded), str(replaced), str(reason),
                                int(triples), str(v)))
    return sorted(versions, key=lambda version: version.number)


def history(store, name: str | Path) -> list[Version]:
    """Every version of a stored source, oldest first; the last is the current one.

    Raises:
        BadInputError: ``name`` is not a stored source.

    >>> from kg import FactStore
    >>> store = FactStore.in_memory(); _ = store.load()
    >>> [(v.number, v.replaced, v.triples > 1000) for v in history(store, "newsweek-isis-attacks-2024")]
    [(1, None, True)]
    """
    iri = _stored_source(store, name)
    earlier = _earlier_versions(store, iri)
    record = store.manifest().get(str(iri), {})
    current = Version((earlier[-1].number if earlier else 0) + 1, record.get("sha256"), record.get("file"),
                      record.get("changed") or record.get("added"), triples=store.graphs().get(str(iri), 0))
    return [*earlier, current]


def earlier_versions_per_graph(store) -> dict[str, int]:
    """How many earlier versions the history keeps of each source, by graph IRI (sources never replaced left out)."""
    return {str(g): int(n) for g, n in store.select(
        f"SELECT ?g (COUNT(?v) AS ?n) WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?v <{PROV.specializationOf}> ?g }} }} "
        "GROUP BY ?g").rows}


def history_records(store, replaced: list[URIRef], *, reason: str, now: str) -> dict[str, str]:
    """SPARQL Update text keeping the current version of each source about to be replaced, by graph IRI.

    Read before the replacement is written, and run in the same transaction as it.
    """
    if replaced and not reason.strip():
        raise BadInputError("Replacing a source needs a reason (kg add --replace FILE --reason TEXT): the history "
                            "keeps why each version was replaced.")
    manifest = store.manifest()
    records = {}
    for iri in replaced:
        earlier = _earlier_versions(store, iri)
        number = (earlier[-1].number if earlier else 0) + 1
        version = URIRef(f"{BASE}id/version/{_source_id(iri)}/{number}")
        record = manifest.get(str(iri), {})
        graph = store.graph(str(iri))
        content = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
        lines = [
            f"{version.n3()} a <{KG.SourceVersion}> ; <{PROV.specializationOf}> {iri.n3()} ;",
            f"  <{KG.reason}> {Literal(reason.strip()).n3()} ;",
            f"  <{PROV.invalidatedAtTime}> {Literal(now, datatype=XSD.dateTime).n3()} ;",
            f"  <{DCTERMS.identifier}> {Literal('sha256:' + record.get('sha256', 'unknown')).n3()} ;",
        ]
        if record.get("file"):
            lines.append(f"  <{PROV.wasDerivedFrom}> {Literal(record['file']).n3()} ;")
        loaded = record.get("changed") or record.get("added")
        if loaded:
            lines.append(f"  <{PROV.generatedAtTime}> {Literal(loaded, datatype=XSD.dateTime).n3()} ;")
        if earlier:
            lines.append(f"  <{PROV.wasRevisionOf}> <{earlier[-1].iri}> ;")
        lines.append(f"  <{VOID.triples}> {len(graph)} ;")
        lines.append(f"  <{KG.content}> {Literal(content).n3()} .")
        records[str(iri)] = f"INSERT DATA {{ GRAPH <{HISTORY_GRAPH}> {{\n" + "\n".join(lines) + "\n} }"
    return records


@dataclass
class VersionDiff:
    """What changed from one version of a source to the next: triples removed and added, as N-Triples lines."""

    older: Version
    newer: Version
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def _version_graph(store, iri: URIRef, version: Version) -> Graph:
    if version.iri is None:
        return store.graph(str(iri))
    rows = store.select(f"SELECT ?c WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ <{version.iri}> <{KG.content}> ?c }} }}").rows
    return Graph().parse(data=str(rows[0][0]), format="nt") if rows else Graph()


def diff(store, name: str | Path, number: int | None = None) -> VersionDiff:
    """What changed between version ``number`` of a source and the version after it (by default the
    last change: the previous version against the current one). Blank nodes are matched by
    structure (rdflib's canonical labelling), so re-serialising a file shows no change.

    Raises:
        BadInputError: Not a stored source, no earlier version, or no such version.
    """
    from rdflib.compare import graph_diff, to_isomorphic

    iri = _stored_source(store, name)
    versions = history(store, iri)
    if len(versions) == 1:
        raise BadInputError(f"<{iri}> has one version only: it has not been replaced (kg add --replace).")
    number = versions[-2].number if number is None else number
    numbers = [v.number for v in versions]
    if number not in numbers[:-1]:
        raise BadInputError(f"<{iri}> has versions {', '.join(map(str, numbers))} (the last is the current one); "
                            "give an earlier one to compare it with the version after it.")
    at = numbers.index(number)
    older, newer = versions[at], versions[at + 1]
    _, removed, added = graph_diff(to_isomorphic(_version_graph(store, iri, older)),
                                   to_isomorphic(_version_graph(store, iri, newer)))
    lines = lambda graph: sorted(line for line in graph.serialize(format="nt").splitlines() if line.strip())
    return VersionDiff(older, newer, lines(removed), lines(added))


def _stored_source(store, name: str | Path) -> URIRef:
    iri = source_iri(name)
    if str(iri) not in store.graphs() or not is_stored_source(store, iri):
        raise BadInputError(f"<{iri}> is not a source in the store; `kg stats` lists the stored sources.")
    return iri


# --- retraction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Retraction:
    """A retraction record: what it withdraws, why, and from when."""

    target: str
    reason: str
    date: str
    iri: str


def _retraction_target(store, name: str) -> tuple[URIRef, URIRef]:
    """The claim or source a name stands for, with the IRI of its retraction record."""
    text = name.strip()
    bare = text.strip("<>")  # a claim IRI, bracketed or not
    claim = claim_iri(text) or (URIRef(bare) if claim_name(bare) else None)
    if claim is not None:
        rows = store.select(f"SELECT ?s WHERE {{ GRAPH ?g {{ <{claim}> <{KG.statedIn}> ?s }} }} LIMIT 1").rows
        if not rows:
            raise BadInputError(f"{claim_name(claim)} is not a claim in the store; `kg query evidence` lists them.")
        return claim, URIRef(f"{BASE}id/retraction/{claim_name(claim)}")
    source = _stored_source(store, text)
    return source, URIRef(f"{BASE}id/retraction/{_source_id(source)}")


def retractions(store) -> list[Retraction]:
    """Every retraction record in the store, by target."""
    rows = store.select(f"""SELECT ?r ?t ?reason ?date WHERE {{ GRAPH <{RETRACTIONS_GRAPH}> {{
        ?r a <{KG.Retraction}> ; <{KG.retracts}> ?t ; <{KG.reason}> ?reason ; <{DCTERMS.date}> ?date }} }}
        ORDER BY ?t""").rows
    return [Retraction(str(t), str(reason), str(date), str(r)) for r, t, reason, date in rows]


def retracted_per_graph(store) -> dict[str, int]:
    """How many retracted things each graph describes (its claims, or the source itself), by graph IRI."""
    return {str(g): int(n) for g, n in store.select(
        f"""SELECT ?g (COUNT(DISTINCT ?t) AS ?n) WHERE {{ GRAPH <{RETRACTIONS_GRAPH}> {{ ?r <{KG.retracts}> ?t }}
            GRAPH ?g {{ ?t ?p ?o }} FILTER (?g != <{RETRACTIONS_GRAPH}>) }} GROUP BY ?g""").rows}


def retract(store, names: list[str], *, reason: str, on: str | None = None, now: str,
            dry_run: bool = False) -> list[Retraction]:
    """Mark claims or whole sources retracted, in one transaction.

    Args:
        names: Claims (``SOURCE-ID/slug`` or their IRIs) or sources (see :func:`source_iri`).
        reason: Why, in the analyst's words (required).
        on: The date the retraction takes effect (``YYYY-MM-DD``), by default today.
        now: When the record is made (ISO 8601 date-time).

    Raises:
        BadInputError: No reason, a bad date, an unknown claim or source, or already retracted.
    """
    from datetime import date

    if not reason.strip():
        raise BadInputError("A retraction needs a reason (kg retract TARGET --reason TEXT).")
    day = on or now[:10]
    try:
        date.fromisoformat(day)
    except ValueError:
        raise BadInputError(f"--date {day!r} is not a date; give YYYY-MM-DD.") from None
    existing = {r.target: r for r in retractions(store)}
    made = []
    for name in dict.fromkeys(names):
        target, record = _retraction_target(store, name)
        if str(target) in existing:
            old = existing[str(target)]
            raise BadInputError(f"<{target}> is already retracted (on {old.date}: {old.reason}); nothing was changed. "
                                "Withdraw that retraction first (kg retract --undo) to record another.")
        made.append(Retraction(str(target), reason.strip(), day, str(record)))
    if made and not dry_run:
        triples = "\n".join(
            f"<{r.iri}> a <{KG.Retraction}> ; <{KG.retracts}> <{r.target}> ; <{KG.reason}> {Literal(r.reason).n3()} ; "
            f"<{DCTERMS.date}> {Literal(r.date, datatype=XSD.date).n3()} ; "
            f"<{PROV.generatedAtTime}> {Literal(now, datatype=XSD.dateTime).n3()} ."
            for r in made)
        with keeping(store, targets=[r.target for r in made]):
            store.update(f"INSERT DATA {{ GRAPH <{RETRACTIONS_GRAPH}> {{\n{triples}\n}} }}")
    return made


def unretract(store, names: list[str], *, dry_run: bool = False) -> list[Retraction]:
    """Withdraw retractions (the claims or sources count again), in one transaction.

    Raises:
        BadInputError: A name is not retracted.
    """
    existing = {r.target: r for r in retractions(store)}
    withdrawn = []
    for name in dict.fromkeys(names):
        target, _ = _retraction_target(store, name)
        if str(target) not in existing:
            raise BadInputError(f"<{target}> is not retracted; nothing was changed.")
        withdrawn.append(existing[str(target)])
    if withdrawn and not dry_run:
        with keeping(store, targets=[r.target for r in withdrawn]):
            store.update(" ;\n".join(f"DELETE WHERE {{ GRAPH <{RETRACTIONS_GRAPH}> {{ <{r.iri}> ?p ?o }} }}"
                                      for r in withdrawn))
    return withdrawn
