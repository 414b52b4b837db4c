"""The embedded fact store: Oxigraph on disk, one named graph per source file.

Loading validates first and writes atomically: every file given to one
:meth:`FactStore.load` lands, or nothing changes. Graphs that replace stored ones are
written in one SPARQL Update transaction. New graphs are written file by file with
Oxigraph's parser (one transaction for the whole corpus would hold it all in memory),
under a journal: before the first file, the graphs about to be created are recorded in
the manifest graph, and the record is cleared after the last. A load stopped in between
(Ctrl-C, an error) drops what it wrote; one killed outright leaves the record, and the
next open of the store drops those graphs (they were new, so the store is as it was
before that load) and says so in :attr:`FactStore.recovered`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import BinaryIO
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, XSD

from kg.model.errors import BadInputError, StoreError, ValidationFailed
from kg.model.memory import release_freed_memory
from kg.model.namespaces import BASE, BOOKKEEPING_GRAPHS, GENERATION, MANIFEST_GRAPH
from kg.model.rdffiles import FactsFile, read_facts_file, sniff_facts_file
from kg.queries.engines import OxigraphEngine, term_from_oxigraph
from kg.stores.hashing import file_sha256
from kg.validation.parts import PART_BYTES
from kg.stores.base import (TRIPLE_FORMATS, LoadReport, display_path, expand_paths, export_format, export_graphs,
                            now_utc, read_manifest, remove_graphs_update, validate_graphs, validate_with_stored)
from kg.validation.validator import ValidationReport

#: Where the store lives unless ``--store`` or ``KG_STORE`` says otherwise.
DEFAULT_STORE = Path(".kg/store")
#: Journal entries (in the manifest graph): graphs a file-by-file load is creating.
PENDING_GRAPH = URIRef(BASE + "id/manifest#pendingGraph")

def default_store_path(start: Path | None = None) -> Path:
    """``$KG_STORE`` if set; else the project's store, found the way git finds its repository.

    Walking up from ``start`` (the current directory): the first folder holding ``.kg/store``,
    else the first that looks like a kg project (``facts/`` and ``ontology/``), gets
    ``.kg/store``; outside any project, ``.kg/store`` under ``start``.

    >>> import tempfile; project = Path(tempfile.mkdtemp()); (project / ".kg" / "store").mkdir(parents=True)
    >>> (project / "deep" / "er").mkdir(parents=True)
    >>> default_store_path(project / "deep" / "er") == project / ".kg" / "store"
    True
    """
    if os.environ.get("KG_STORE"):
        return Path(os.environ["KG_STORE"])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_STORE).is_dir():
            return folder / DEFAULT_STORE
    for folder in (here, *here.parents):
        if (folder / "facts").is_dir() and (folder / "ontology").is_dir():
            return folder / DEFAULT_STORE
    return here / DEFAULT_STORE


class FactStore:
    """kg's facts in an Oxigraph store.

    Args:
        path: A folder for an on-disk store (created if missing); ``None`` for a store
            in memory.

    Raises:
        StoreError: The store is in use by another process, or cannot be opened.

    >>> store = FactStore.in_memory()
    >>> report = store.load()
    >>> sorted(store.graphs())[0]
    'https://w3id.org/conflict-kg/id/reference'
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False, wait: float = 0.0):
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        if self.path is not None and self.path.is_dir() and any(self.path.iterdir()) \
                and not (self.path / "CURRENT").exists():
            # Oxigraph would fill any folder with its database files: refuse one that holds something else.
            raise StoreError(f"{self.path.resolve()} is a folder with other files in it, not a kg store; give an empty "
                             "or new folder, or an existing store, with --store PATH.")
        self._store = self._open(wait)
        self.engine = OxigraphEngine(self._store)
        self._keep_answers()
        #: Graphs of an interrupted load found in the journal at open, and removed.
        self.recovered: list[str] = [] if read_only else self._recover()
        #: Read-only: graphs a load in another process is writing now (its answers may include part of them).
        self.in_progress: list[str] = self._pending() if read_only else []
        if self.in_progress:
            self._recover_if_nobody_writes()

    def _recover_if_nobody_writes(self) -> None:
        """A reader that finds a journal: when no process holds the lock, the load was killed, and is rolled
        back now (as any open does); when one does, the load is under way and the reader sees its progress."""
        try:
            writer = ox.Store(str(self.path))
        except OSError:
            return  # a writer is at work
        self._store = writer
        self.recovered, self.in_progress = self._recover(), []
        self.engine.store = self._store = None
        del writer
        self._store = ox.Store.read_only(str(self.path))
        self.engine = OxigraphEngine(self._store)
        self._keep_answers()

    def _keep_answers(self) -> None:
        """Answers kept beside an on-disk store (:mod:`kg.queries.kept`); a store in memory keeps none."""
        from kg.queries.kept import KeptAnswers, answers_path

        self.engine.kept = None if self.path is None else KeptAnswers(answers_path(self.path), self.generation)

    def new_generation(self) -> str:
        """Give the store a new generation (a store written before kg kept generations has none)."""
        self._writable()
        self._store.update(_next_generation())
        return self.generation()

    def generation(self) -> str | None:
        """The store's generation: a token that every write changes, in the write's own transaction."""
        if self._store is None:
            return None
        manifest = ox.NamedNode(str(MANIFEST_GRAPH))
        for quad in self._store.quads_for_pattern(manifest, ox.NamedNode(str(GENERATION)), None, manifest):
            return quad.object.value
        return None

    def _open(self, wait: float) -> ox.Store:
        """Open the store; a writer waits up to ``wait`` seconds for another process's lock, a reader never needs to."""
        import time

        if self.path is None:
            return ox.Store()
        if self.read_only:
            if not (self.path / "CURRENT").exists():
                raise StoreError(f"There is no store at {self.path.resolve()}.")
            try:
                return ox.Store.read_only(str(self.path))
            except OSError as error:
                raise StoreError(f"Cannot open the store at {self.path.resolve()} for reading: {error}") from None
        deadline = time.monotonic() + wait
        while True:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                return ox.Store(str(self.path))
            except OSError as error:
                if "lock" not in str(error).lower():
                    raise StoreError(f"Cannot open the store at {self.path.resolve()}: {error}") from None
                if time.monotonic() >= deadline:
                    waited = f" (waited {wait:g} s)" if wait else ""
                    raise StoreError(
                        f"The store at {self.path.resolve()} is in use by another process that is writing to it{waited}. "
                        "Wait for it to finish, or use another store with --store PATH; reading commands (kg query, "
                        "kg stats…) work meanwhile."
                    ) from None
                time.sleep(0.25)

    def _pending(self) -> list[str]:
        manifest = ox.NamedNode(str(MANIFEST_GRAPH))
        return sorted(q.object.value for q in self._store.quads_for_pattern(
            manifest, ox.NamedNode(str(PENDING_GRAPH)), None, manifest))

    @classmethod
    def in_memory(cls) -> FactStore:
        """A store that lives in memory only."""
        return cls(None)

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying :class:`pyoxigraph.Store`."""
        return self._store

    def close(self) -> None:
        """Release the store (and its lock), what was written flushed to its tables first (:meth:`_flush`).

        Oxigraph releases its lock when the last reference to the store goes, so the
        engine's reference is cleared too (a traceback may still hold the engine).
        """
        if self._store is not None and self.path is not None and not self.read_only:
            self._flush()
        if self.engine is not None:
            self.engine.store = None
        self._store = None
        self.engine = None

    def _flush(self) -> None:
        """Write what is still only in the store's log into its tables. RocksDB keeps a log file until every
        column family written in it is flushed, and one that is written little holds the log of a whole load:
        after a 10 M-triple load, 3.2 GB of log that every later open replayed before it could answer (a read-only
        one, each time: `kg query` took 30 s to start). The writes are already durable: a failure here loses
        nothing, the log stays and is replayed."""
        try:
            self._store.flush()
        except OSError:
            pass

    def __enter__(self) -> FactStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading -----------------------------------------------------------------

    def graphs(self) -> dict[str, int]:
        """Triples per named graph, kg's bookkeeping (manifest, history) left out."""
        # Counted by Oxigraph (about 13 times sooner than iterating the quads in Python at 100k triples).
        counts = {row["graph"].value: int(row["triples"].value) for row in self._store.query(
            "SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph")
            if isinstance(row["graph"], ox.NamedNode) and URIRef(row["graph"].value) not in BOOKKEEPING_GRAPHS}
        return dict(sorted(counts.items()))

    def files(self) -> dict[str, str]:
        """The file each named graph was loaded from, by graph IRI."""
        result = {}
        for quad in self._store.quads_for_pattern(None, ox.NamedNode(str(PROV.wasDerivedFrom)), None,
                                                  ox.NamedNode(str(MANIFEST_GRAPH))):
            result[quad.subject.value] = quad.object.value
        return dict(sorted(result.items()))

    def graph(self, iri: str) -> Graph:
        """One named graph as an rdflib graph."""
        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(iri)):
            graph.add((term_from_oxigraph(quad.subject), term_from_oxigraph(quad.predicate), term_from_oxigraph(quad.object)))
        return graph

    def dataset(self) -> Dataset:
        """The whole store as an rdflib dataset (converted once, for pySHACL or rdflib)."""
        dataset = Dataset(default_union=True)
        for iri in self.graphs():
            target = dataset.graph(URIRef(iri))
            for triple in self.graph(iri):
                target.add(triple)
        return dataset

    def select(self, sparql: str):
        """Run a SELECT query over the union of the graphs (the same call as :meth:`RemoteStore.select`)."""
        return self.engine.select(sparql)

    def construct(self, sparql: str) -> Graph:
        """Run a CONSTRUCT query (over the union of the graphs) into an rdflib graph."""
        graph = Graph()
        for triple in self._store.query(sparql, use_default_graph_as_union=True):
            graph.add((term_from_oxigraph(triple.subject), term_from_oxigraph(triple.predicate),
                       term_from_oxigraph(triple.object)))
        return graph

    def describe(self, iris: list[URIRef], *, exclude_graphs: Iterable[URIRef] = (), depth: int = 2) -> Graph:
        """The triples of each IRI in every graph but the excluded ones, with their blank-node details, by index lookups."""
        graph = Graph()
        excluded = {str(g) for g in exclude_graphs} | {str(g) for g in BOOKKEEPING_GRAPHS}
        pending = [(ox.NamedNode(str(iri)), 0) for iri in iris]
        while pending:
            subject, level = pending.pop()
            for quad in self._store.quads_for_pattern(subject, None, None, None):
                name = quad.graph_name
                if not isinstance(name, ox.NamedNode) or name.value in excluded:
                    continue
                graph.add((term_from_oxigraph(quad.subject), term_from_oxigraph(quad.predicate),
                           term_from_oxigraph(quad.object)))
                if isinstance(quad.object, ox.BlankNode) and level < depth:
                    pending.append((quad.object, level + 1))
        return graph

    def write(self, files: list[FactsFile], *, records: dict[str, str] | None = None) -> None:
        """Write already-validated files, each replacing its graph, in one transaction.

        Args:
            records: SPARQL Update text to run in the same transaction, by graph IRI (the
                history of a replaced source, :func:`kg.services.lifecycle.history_records`).
        """
        self._replace_graphs(files, {str(f.graph_iri): file_sha256(f.path) for f in files},
                             also=list((records or {}).values()))

    def update(self, sparql: str) -> None:
        """Run one SPARQL Update: one transaction, all of it or nothing."""
        self._writable()
        try:
            self._store.update(sparql + " ;\n" + _next_generation())
        except OSError as error:
            raise StoreError(f"Writing to the store failed, nothing was changed: {error}") from None

    def validate(self, graphs: Iterable[str] | None = None, *, part_bytes: int | None = None) -> ValidationReport:
        """Validate everything the store holds, or the given graphs with what they depend on.

        A large store is written out graph by graph to a temporary folder and validated in
        parts (:mod:`kg.validation.parts`), so memory stays bounded; the report is the same.
        Given graphs are checked with the ontology, the reference data and the sources they
        point into, and only their own nodes' problems are kept (:func:`kg.stores.base.validate_graphs`).
        """
        if graphs:
            return validate_graphs(self, graphs)
        return self._validate_with([], self.graphs(), part_bytes=part_bytes)

    def _validate_with(self, files: list[FactsFile], graphs: dict[str, int], *,
                       part_bytes: int | None = None) -> ValidationReport:
        """Validate files together with some of the store's graphs (IRI → triples), in parts when that is large."""
        def dump(iri: str, path: Path) -> None:
            self._store.dump(output=str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri))

        return validate_with_stored(files, graphs, read=self.graph, dump=dump, part_bytes=part_bytes)

    def export(self, format: str = "trig", *, output: BinaryIO | None = None) -> bytes | None:
        """Serialise the store (named graphs kept in ``trig``, ``nquads`` and ``jsonld``).

        Args:
            format: One of :data:`EXPORT_FORMATS`.
            output: A binary file to stream into; without it, the bytes are returned.

        >>> store = FactStore.in_memory(); _ = store.load()
        >>> b"GRAPH" in store.export("trig") or b"{" in store.export("trig")
        True
        """
        rdf_format = export_format(format)
        if format in TRIPLE_FORMATS:
            return export_graphs(((iri, self.graph(iri)) for iri in self.graphs()), format, output=output)
        # Quads straight from Oxigraph, streamed.
        bookkeeping = {str(g) for g in BOOKKEEPING_GRAPHS}
        quads = (q for q in self._store.quads_for_pattern(None, None, None, None)
                 if not isinstance(q.graph_name, ox.NamedNode) or q.graph_name.value not in bookkeeping)
        return ox.serialize(quads, output, format=rdf_format)

    # --- writing -----------------------------------------------------------------

    def load(
        self,
        paths: Iterable[str | Path] | None = None,
        *,
        check: bool = True,
        progress: Callable[[str], None] | None = None,
        records: dict[str, str] | None = None,
    ) -> LoadReport:
        """Validate files, then load each into its own named graph, atomically.

        This writes every file given; :func:`kg.services.load.load` (what ``kg load`` runs) skips
        the files the store holds unchanged and checks changed ones incrementally.

        Args:
            paths: Turtle files; folders are expanded to their ``*.ttl``. By default the
                ontology and every file under ``facts/``.
            check: Validate before loading (the data as it would be after the load:
                the new files together with the rest of the store).
            progress: Called with a description as each step starts (one per file read,
                then validation, then writing): for progress bars.
            records: SPARQL Update text to run in the transaction that replaces graphs, by
                graph IRI (the history of replaced sources).

        Returns:
            What was loaded, and the validation report.

        Raises:
            BadInputError: A file cannot be read.
            ValidationFailed: The facts do not conform; nothing was written.
        """
        step = progress or (lambda description: None)
        expanded = expand_paths(paths)
        if not expanded:
            raise BadInputError("No files to load.")
        files = self._read(expanded, parse=check, step=step)
        if check:
            step("validating")
            report = self._validate_with(files, {iri: n for iri, n in self.graphs().items()
                                                 if iri not in {str(f.graph_iri) for f in files}})
            if not report.conforms:
                raise ValidationFailed(report)
            release_freed_memory()  # the validation's index, before the store's writes and the kept answers
        else:
            step("not validating")
            report = ValidationReport(True, Graph(), "not validated")
        step("writing")
        files = self._write(files, records or {})
        return LoadReport(
            validation=report,
            graphs={str(f.graph_iri): f.size for f in files},
            files={str(f.graph_iri): display_path(f.path) for f in files},
        )

    @staticmethod
    def _read(paths: list[Path], *, parse: bool, step: Callable[[str], None]) -> list[FactsFile]:
        """Each file's graph name (and, to be validated whole, its rdflib graph); two files of one source refused.

        A large load is validated in parts (:mod:`kg.validation.parts`), which reads each file when its
        part comes: then only each file's graph name and size are needed here.
        """
        whole = parse and sum(Path(p).stat().st_size for p in paths) <= PART_BYTES
        files: list[FactsFile] = []
        seen: dict[URIRef, FactsFile] = {}
        for path in paths:
            step(f"reading {path}")
            facts = read_facts_file(path) if whole else sniff_facts_file(path)
            if facts.graph_iri in seen:
                raise BadInputError(f"{facts.path} and {seen[facts.graph_iri].path} both describe {facts.graph_iri}; "
                                    "each source must be in one file.")
            seen[facts.graph_iri] = facts
            files.append(facts)
        return files

    def _write(self, files: list[FactsFile], records: dict[str, str]) -> list[FactsFile]:
        """Write validated files: replacing stored graphs in one SPARQL Update (with ``records``), new ones
        file by file with Oxigraph's parser under the journal. Returns the files as written."""
        hashes = {str(f.graph_iri): file_sha256(f.path) for f in files}
        if {str(f.graph_iri) for f in files} & set(self.graphs()):
            files = [f if len(f.graph) else read_facts_file(f.path) for f in files]  # an update needs the triples
            self._replace_graphs(files, hashes, also=list(records.values()))
        else:
            self._fast_load([(f.path, f.graph_iri, hashes[str(f.graph_iri)]) for f in files])
        return files

    def manifest(self) -> dict[str, dict[str, str]]:
        """What the manifest records of each graph: ``file``, ``sha256``, ``added`` and ``changed`` (ISO times)."""
        return read_manifest(self.select)

    def file_hashes(self) -> dict[str, str]:
        """The SHA-256 of the file each graph was loaded from, from the manifest, by graph IRI."""
        return self._graph_hashes()

    def _graph_hashes(self) -> dict[str, str]:
        """The SHA-256 of the file each graph was loaded from, from the manifest."""
        hashes = {}
        for quad in self._store.quads_for_pattern(None, ox.NamedNode(str(DCTERMS.identifier)), None,
                                                  ox.NamedNode(str(MANIFEST_GRAPH))):
            value = quad.object.value
            if value.startswith("sha256:"):
                hashes[quad.subject.value] = value[len("sha256:"):]
        return hashes

    def _fast_load(self, files: list[tuple[Path, URIRef, str]]) -> dict[str, int]:
        """Load files into new, empty graphs with Oxigraph's own parser, under the journal.

        Each file is one transaction. The graphs are recorded as pending first; if the load
        stops (an error, Ctrl-C), the graphs written are dropped again, and if the process is
        killed, the next open drops them (:meth:`_recover`): the graphs were new and empty,
        so either way the store is left as it was.
        """
        self._writable()
        manifest = ox.NamedNode(str(MANIFEST_GRAPH))
        pending = ox.NamedNode(str(PENDING_GRAPH))
        now = ox.Literal(now_utc(), datatype=ox.NamedNode(str(XSD.dateTime)))
        journal = [ox.Quad(manifest, pending, ox.NamedNode(str(graph)), manifest) for _, graph, _ in files]
        self._store.update(_next_generation())  # readers of kept answers see a new store from the first file on
        self._store.extend(journal)  # one transaction: the record exists before any graph does
        counts: dict[str, int] = {}
        try:
            for path, graph, digest in files:
                target = ox.NamedNode(str(graph))
                self._store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=target,
                                 base_iri=Path(path).resolve().as_uri())
                self._store.extend([
                    ox.Quad(target, ox.NamedNode(str(PROV.wasDerivedFrom)), ox.Literal(display_path(path)), manifest),
                    ox.Quad(target, ox.NamedNode(str(DCTERMS.identifier)), ox.Literal(f"sha256:{digest}"), manifest),
                    ox.Quad(target, ox.NamedNode(str(DCTERMS.created)), now, manifest),
                    ox.Quad(target, ox.NamedNode(str(DCTERMS.modified)), now, manifest),
                ])
                counts[str(graph)] = sum(1 for _ in self._store.quads_for_pattern(None, None, None, target))
            self._store.update(f"DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{PENDING_GRAPH}> ?g }} }}"
                               f" ;\n{_next_generation()}")
            self._flush()  # now, not only at close: the kept answers computed next read the tables, not the log
        except BaseException as error:
            self._recover()
            if isinstance(error, (OSError, SyntaxError)):
                raise StoreError(f"Writing to the store failed, nothing was changed: {error}") from None
            raise
        return counts

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"The store at {self.path} was opened for reading only; nothing was written.")

    def _recover(self) -> list[str]:
        """Drop the graphs of a file-by-file load that did not finish (see the module's docstring).

        Returns:
            The graphs that were dropped (empty when the journal is clear).
        """
        manifest = ox.NamedNode(str(MANIFEST_GRAPH))
        graphs = sorted(q.object.value for q in self._store.quads_for_pattern(
            manifest, ox.NamedNode(str(PENDING_GRAPH)), None, manifest))
        if graphs:
            drops = " ".join(f"DROP SILENT GRAPH <{g}> ; DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{g}> ?p ?o }} }} ;"
                             for g in graphs)
            self._store.update(
                f"{drops} DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{PENDING_GRAPH}> ?g }} }} ;\n"
                + _next_generation())
        return graphs

    def _replace_graphs(self, files: list[FactsFile], hashes: dict[str, str] | None = None, *,
                        also: list[str] = ()) -> None:
        manifest = f"<{MANIFEST_GRAPH}>"
        hashes = hashes or {}
        added = {graph: record["added"] for graph, record in self.manifest().items() if record.get("added")}
        now = now_utc()
        drops = []
        inserts = []
        for facts in files:
            graph = f"<{facts.graph_iri}>"
            drops.append(f"DROP SILENT GRAPH {graph} ;")
            drops.append(f"DELETE WHERE {{ GRAPH {manifest} {{ {graph} ?p ?o }} }} ;")
            triples = facts.graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
            inserts.append(f"GRAPH {graph} {{\n{triples}}}")
            inserts.append(f"GRAPH {manifest} {{ {graph} <{PROV.wasDerivedFrom}> {_string(display_path(facts.path))} . }}")
            digest = hashes.get(str(facts.graph_iri)) or file_sha256(facts.path)
            inserts.append(f"GRAPH {manifest} {{ {graph} <{DCTERMS.identifier}> {_string('sha256:' + digest)} . }}")
            created = added.get(str(facts.graph_iri), now)  # a replaced graph keeps when it was first added
            inserts.append(f"GRAPH {manifest} {{ {graph} <{DCTERMS.created}> {_datetime(created)} ; "
                           f"<{DCTERMS.modified}> {_datetime(now)} . }}")
        update = "\n".join(drops) + "\nINSERT DATA {\n" + "\n".join(inserts) + "\n}"
        self.update(" ;\n".join([update, *also]))  # one update request = one transaction

    def remove(self, graph_iri: str) -> None:
        """Remove one named graph (a source) and its manifest entry, atomically."""
        self.remove_graphs([graph_iri])

    def remove_graphs(self, graph_iris: list[str]) -> None:
        """Remove named graphs and their manifest entries in one transaction."""
        self.update(remove_graphs_update(graph_iris))


def _next_generation() -> str:
    """SPARQL Update that gives the store a new generation (run in every write's transaction)."""
    import uuid

    return (f"DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{GENERATION}> ?generation }} }} ;\n"
            f"INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{GENERATION}> \"{uuid.uuid4().hex}\" }} }}")


def _string(text: str) -> str:
    return Literal(text).n3()


def _datetime(text: str) -> str:
    return Literal(text, datatype=XSD.dateTime).n3()


def dataset_from_files(paths: Iterable[str | Path]) -> Dataset:
    """Parse files into an rdflib dataset, each in its named graph, default graph = union.

    This is the plain-rdflib engine's data: the same graphs the embedded store holds.
    """
    dataset = Dataset(default_union=True)
    for facts in map(read_facts_file, expand_paths(paths)):
        target = dataset.graph(facts.graph_iri)
        for triple in facts.graph:
            target.add(triple)
    return dataset
