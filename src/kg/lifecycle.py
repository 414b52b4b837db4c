"""A source's life in the store: removing it, and noticing sources whose file is gone.

Written over the operations both stores share (``select``, ``graphs``, ``remove_graphs``), so
the embedded store and any SPARQL endpoint behave alike. A removal is one transaction (one
SPARQL Update), and a refused one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import URIRef

from kg.errors import BadInputError, KgError
from kg.namespaces import BASE, SLUG, SOURCE_TYPES



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
        from kg.rdffiles import sniff_facts_file

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
          FILTER (?other NOT IN ({", ".join(f"<{g}>" for g in graphs)}, <{BASE}id/manifest>))
          FILTER NOT EXISTS {{ GRAPH ?elsewhere {{ ?target ?q ?r }}
                               FILTER (?elsewhere NOT IN ({", ".join(f"<{g}>" for g in graphs)})) }}
        }} ORDER BY ?s ?p ?target""").rows
    return [(str(s), str(p), str(t)) for s, p, t in rows]


def remove_sources(store, names: list[str | Path], *, dry_run: bool = False, force: bool = False) -> RemovalReport:
    """Remove sources (their graphs and manifest records) in one transaction.

    Args:
        store: A :class:`~kg.store.FactStore` or :class:`~kg.endpoint.RemoteStore`.
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
    if not dry_run:
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
