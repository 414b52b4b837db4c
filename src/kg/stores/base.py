"""What every kg store is: the :class:`Store` protocol, and the records all stores keep alike.

kg keeps its facts in an embedded Oxigraph store (:mod:`kg.stores.oxigraph`) or in any SPARQL 1.1
server (:mod:`kg.stores.sparql_protocol`). Both offer the primitives of :class:`Store`, and the
operations users run (:mod:`kg.services`) are written once over them; the command line never
asks which kind of store it has. Both keep the same bookkeeping in the store itself: the manifest
graph (the file, SHA-256 and times of each graph, :func:`read_manifest`), the history of replaced
sources and the retractions, each changed by SPARQL Update text built here, so that a change is one
transaction on either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, PROV

from kg.model.errors import BadInputError, StoreError
from kg.model.inputs import regular_file
from kg.model.namespaces import HISTORY_GRAPH, KG, MANIFEST_GRAPH, RETRACTIONS_GRAPH, VALIDATED_UNDER
from kg.model.rdffiles import FactsFile
from kg.model.resources import default_load_paths
from kg.queries.engines import Engine, SelectResult
from kg.validation.validator import ValidationReport


@dataclass
class LoadReport:
    """What a load did.

    Attributes:
        validation: The validation report of the data as it would be after the load.
        graphs: Triples per named graph written, by graph IRI.
        files: The file each graph was read from.
    """

    validation: ValidationReport
    graphs: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    #: Files the store held unchanged (same SHA-256), not read: graph IRI → file.
    skipped: dict[str, str] = field(default_factory=dict)
    #: Sources replaced by a changed file (their earlier versions kept in the history).
    replaced: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return self.validation.conforms

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


#: ``kg export`` formats: the quad formats keep the named graphs; the triple formats merge them.
EXPORT_FORMATS = {"turtle": "TURTLE", "trig": "TRIG", "nquads": "N_QUADS", "ntriples": "N_TRIPLES", "jsonld": "JSON_LD"}
TRIPLE_FORMATS = ("turtle", "ntriples")


def export_format(name: str):
    """The :class:`pyoxigraph.RdfFormat` of an export format's name.

    Raises:
        BadInputError: Not one of :data:`EXPORT_FORMATS`.
    """
    import pyoxigraph as ox

    if name not in EXPORT_FORMATS:
        raise BadInputError(f"Unknown export format {name!r}; use one of {', '.join(EXPORT_FORMATS)}.")
    return getattr(ox.RdfFormat, EXPORT_FORMATS[name])


def export_graphs(graphs: Iterable[tuple[str, Graph]], format: str, *, output: BinaryIO | None = None) -> bytes | None:
    """Serialise named graphs: each kept in a quad format, merged (one copy of each triple) in a triple format.

    >>> from rdflib import Literal
    >>> g = Graph(); _ = g.add((URIRef("http://example.org/a"), URIRef("http://example.org/b"), Literal(1)))
    >>> export_graphs([("http://example.org/g", g)], "nquads")
    b'<http://example.org/a> <http://example.org/b> "1"^^<http://www.w3.org/2001/XMLSchema#integer> <http://example.org/g> .\\n'
    """
    import pyoxigraph as ox

    from kg.model.namespaces import PREFIXES
    from kg.queries.engines import term_to_oxigraph

    rdf_format = export_format(format)
    if format in TRIPLE_FORMATS:
        union = Graph()
        for prefix, namespace in PREFIXES.items():
            union.bind(prefix, namespace)
        for _, graph in graphs:
            union += graph
        data = union.serialize(format="turtle" if format == "turtle" else "nt", encoding="utf-8")
        if output is None:
            return data
        output.write(data)
        return None
    quads = (ox.Quad(term_to_oxigraph(s), term_to_oxigraph(p), term_to_oxigraph(o), ox.NamedNode(iri))
             for iri, graph in graphs for s, p, o in graph)
    return ox.serialize(quads, output, format=rdf_format)


@runtime_checkable
class Store(Protocol):
    """The primitives of a kg store. Graphs are named by IRI; kg's bookkeeping graphs (manifest,
    history) are never listed, exported or validated as data."""

    def graphs(self) -> dict[str, int]:
        """Triples per named graph kg keeps in the store, by graph IRI."""

    def graph(self, iri: str) -> Graph:
        """One named graph, whole."""

    def select(self, sparql: str) -> SelectResult:
        """A SELECT query over the store's own dataset: kg's services name every graph they read
        (``GRAPH``), because a server's default graph is its own choice (the union of the graphs on
        the embedded store and Virtuoso, an empty graph on ``oxigraph serve``). For the union of
        kg's graphs as default graph, as stored queries need, use :attr:`engine`."""

    @property
    def engine(self) -> Engine:
        """An engine whose default graph is the union of kg's graphs (what stored queries run on)."""

    def construct(self, sparql: str) -> Graph:
        """A CONSTRUCT query over the store's own dataset (name the graphs, as for :meth:`select`)."""

    def describe(self, iris: list[URIRef], *, exclude_graphs: Iterable[URIRef] = (), depth: int = 2) -> Graph:
        """What every graph but the excluded ones says of each IRI, with blank-node details to ``depth`` levels."""

    def update(self, sparql: str) -> None:
        """One SPARQL Update, one transaction: all of it or nothing."""

    def write(self, files: list[FactsFile], *, records: dict[str, str] | None = None) -> None:
        """Write already-validated files, each replacing its graph, with their manifest records (and ``records``)."""

    def remove_graphs(self, graph_iris: list[str]) -> None:
        """Remove graphs with their manifest records, history and retractions, in one transaction."""

    def file_hashes(self) -> dict[str, str]:
        """The SHA-256 of the file each graph was loaded from, by graph IRI."""

    def manifest(self) -> dict[str, dict[str, str]]:
        """The manifest's record of each graph: ``file``, ``sha256``, ``added``, ``changed``."""

    def files(self) -> dict[str, str]:
        """The file each graph was loaded from, by graph IRI."""

    def load(self, paths: Iterable[str | Path] | None = None, *, check: bool = True,
             progress: Callable[[str], None] | None = None, records: dict[str, str] | None = None) -> LoadReport:
        """Validate files with the rest of the store and write them all (the full path of :func:`kg.services.load.load`)."""

    def validate(self, graphs: Iterable[str] | None = None, *, part_bytes: int | None = None) -> ValidationReport:
        """Validate everything, or the given graphs with what they depend on (their own nodes' problems)."""

    def export(self, format: str = "trig", *, output: BinaryIO | None = None) -> bytes | None:
        """Serialise kg's graphs (named graphs kept in trig, nquads, jsonld)."""

    def close(self) -> None:
        """Release the store."""


def dependencies(store: Store, chosen: list[str]) -> list[str]:
    """The graphs a validation of ``chosen`` needs besides them: every graph that is not a source's (the
    ontology, the reference data) and the sources ``chosen`` point into.

    Raises:
        BadInputError: A chosen graph is not one of kg's graphs in the store.
    """
    from kg.model.namespaces import SOURCE_TYPES

    stored = store.graphs()
    unknown = [g for g in chosen if g not in stored]
    if unknown:
        raise BadInputError(f"<{unknown[0]}> is not one of kg's graphs in the store; `kg stats` lists them.")
    sources = {str(row[0]) for row in store.select(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?g a ?type FILTER (?type IN ({', '.join(t.n3() for t in SOURCE_TYPES)})) }} }}").rows}
    values = " ".join(f"<{g}>" for g in chosen)
    referenced = {str(row[0]) for row in store.select(f"""
        SELECT DISTINCT ?g WHERE {{ VALUES ?chosen {{ {values} }}
          GRAPH ?chosen {{ ?s ?p ?target FILTER (isIRI(?target)) }} GRAPH ?g {{ ?target ?q ?r }} }}""").rows}
    return [g for g in stored if g not in chosen and (g not in sources or g in referenced)]


def validate_graphs(store: Store, graphs: Iterable[str]) -> ValidationReport:
    """Validate some of a store's graphs with what they depend on (:func:`dependencies`).

    The report keeps the problems of the given graphs' own nodes only, so it says of them what
    a validation of the whole store would.
    """
    from kg.validation.explain import own_nodes
    from kg.validation.validator import validate

    chosen = list(dict.fromkeys(str(g) for g in graphs))
    context = dependencies(store, chosen)
    own = [store.graph(iri) for iri in chosen]
    nodes = set().union(*(own_nodes(graph) for graph in own))
    return validate([*own, *(store.graph(iri) for iri in context)], only=nodes)


#: Roughly, for deciding when what a store holds is large enough to validate in parts.
TURTLE_BYTES_PER_TRIPLE = 50


def validate_with_stored(files: list[FactsFile], graphs: dict[str, int], *, read: Callable[[str], Graph],
                         dump: Callable[[str, Path], None], part_bytes: int | None = None) -> ValidationReport:
    """Validate files together with stored graphs (IRI → triples): whole when small, else with each graph
    dumped to a temporary folder (``dump(iri, path)`` writes it as N-Triples) and validated in parts
    (:mod:`kg.validation.parts`), so memory stays bounded on either store; the report is the same.
    """
    import dataclasses
    import tempfile

    from kg.validation.parts import PART_BYTES
    from kg.validation.validator import validate

    limit = part_bytes if part_bytes is not None else PART_BYTES
    size = sum(f.path.stat().st_size for f in files) + sum(graphs.values()) * TURTLE_BYTES_PER_TRIPLE
    if size <= limit:
        return validate([*files, *(read(iri) for iri in graphs)])
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as folder:
        dumped = []
        for number, iri in enumerate(graphs):
            dumped.append(Path(folder) / f"{number:06d}.nt")
            dump(iri, dumped[-1])
        report = validate([*(f.path for f in files), *dumped], part_bytes=limit)
    # As for graphs validated whole: a problem in a stored graph names no file (the temporary ones are gone).
    temporary = {str(path) for path in dumped}
    report.problems = [dataclasses.replace(p, file=None, line=None) if p.file in temporary else p
                       for p in report.problems]
    return report


def display_path(path: Path) -> str:
    """A path relative to the current directory when it lies below it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def now_utc() -> str:
    """The current time, UTC, to the second (ISO 8601), as the store's records give it."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def remove_graphs_update(graph_iris: list[str]) -> str:
    """One SPARQL Update that drops graphs with their manifest records, earlier versions and the
    retractions of what they describe (one transaction on any server)."""
    return " ;\n".join(
        f"DELETE {{ GRAPH <{RETRACTIONS_GRAPH}> {{ ?r ?p ?o }} }} WHERE {{ GRAPH <{RETRACTIONS_GRAPH}> "
        f"{{ ?r <{KG.retracts}> ?t ; ?p ?o }} GRAPH <{g}> {{ ?t ?x ?y }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?v <{PROV.specializationOf}> <{g}> . ?v ?p ?o }} }} ;\n"
        f"DROP SILENT GRAPH <{g}> ; DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{g}> ?p ?o }} }}"
        for g in graph_iris)


def forget_validation_update() -> str:
    """SPARQL Update that records that the store is no longer known to conform (run with, or before, a write
    that was not validated)."""
    return f"DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{VALIDATED_UNDER}> ?rules }} }}"


def read_manifest(select) -> dict[str, dict[str, str]]:
    """The manifest's record of each graph, read with a store's ``select``."""
    rows = select(f"""SELECT ?g ?p ?o WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ ?g ?p ?o
        FILTER (?p IN (<{PROV.wasDerivedFrom}>, <{DCTERMS.identifier}>, <{DCTERMS.created}>, <{DCTERMS.modified}>)) }} }}""")
    if rows.rows and (list(rows.variables) != ["g", "p", "o"] or any(len(row) != 3 or None in row for row in rows.rows)):
        raise StoreError("The store's answer about its manifest does not match the question asked; it cannot be trusted.")
    names = {str(PROV.wasDerivedFrom): "file", str(DCTERMS.identifier): "sha256", str(DCTERMS.created): "added",
             str(DCTERMS.modified): "changed"}
    records: dict[str, dict[str, str]] = {}
    for graph, prop, value in rows.rows:
        text = str(value)
        if names[str(prop)] == "sha256":
            text = text.removeprefix("sha256:")
        records.setdefault(str(graph), {})[names[str(prop)]] = text
    return dict(sorted(records.items()))


def expand_paths(paths: Iterable[str | Path] | None) -> list[Path]:
    if paths is None:
        return default_load_paths()
    expanded: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise BadInputError(f"{path}: no such file or folder.")
        if path.is_dir():
            expanded.extend(sorted(path.glob("*.ttl")))
        else:
            expanded.append(regular_file(path, what="a facts file"))
    return expanded


