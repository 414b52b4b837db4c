"""Loading into a store that already holds facts: a reload costs what changed.

``kg load`` on a store that holds a corpus compares each file's SHA-256 with the hash the
store's manifest records for its graph:

- a file whose hash matches a stored graph is **unchanged**: it is not parsed nor validated;
- files that are new or changed, all of them sources, are checked the way ``kg add`` checks
  new facts — against only what they touch in the store, the other sources that point into
  a replaced one checked again (:func:`kg.services.add.check_files`) — and written in one
  transaction, each replaced version kept in the history;
- anything else — the ontology or the reference data changed, a file that describes what
  another graph describes, a large batch of new files, a store not known to conform under
  today's shapes and ontology — is validated in full together with the rest of the store,
  as a first load is.

The shortcut is only taken when the store is known to conform: every validated load records
in the manifest graph the SHA-256 of the shapes and ontology it was validated under
(:data:`VALIDATED_UNDER`), and a load without validation clears it first. So the verdict of
a reload is the verdict a full validation of the resulting store would give
(``tests/test_reload.py`` checks unchanged, changed, added and removed files on both stores).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg.model.errors import BadInputError, ValidationFailed
from kg.model.namespaces import MANIFEST_GRAPH, VALIDATED_UNDER
from kg.model.rdffiles import sniff_facts_file
from kg.services.add import check_files
from kg.services.keeping import keep_up_to_date, keeping
from kg.services.lifecycle import history_records, is_stored_source
from kg.stores.hashing import file_sha256, rules_digest
from kg.stores.base import LoadReport, display_path, expand_paths, forget_validation_update, now_utc
from kg.validation.parts import PART_BYTES
from kg.validation.validator import ValidationReport

def validated_under(store) -> str | None:
    """The digest of the rules the store's content last validated under, or ``None`` if not known to conform."""
    rows = store.select(f"SELECT ?rules WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{VALIDATED_UNDER}> ?rules }} }}").rows
    return str(rows[0][0]) if len(rows) == 1 else None


def _record_validation(rules: str) -> str:
    return (f"{forget_validation_update()} ;\nINSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> "
            f"<{VALIDATED_UNDER}> {Literal(rules).n3()} }} }}")


def forget_validation(store) -> None:
    """Record that the store is no longer known to conform (before a write that was not validated)."""
    store.update(forget_validation_update())


def load(
    store,
    paths: Iterable[str | Path] | None = None,
    *,
    check: bool = True,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Validate files and load each into its named graph, skipping those the store holds unchanged.

    Args:
        store: A :class:`~kg.stores.oxigraph.FactStore` or :class:`~kg.stores.sparql_protocol.RemoteStore`.
        paths: Files and folders; by default the ontology and every file under ``facts/``.
        check: Validate (see the module's docstring). Without it, every file is written and
            the store is no longer known to conform until a validated load.
        progress: Called with a description as each step starts: one per file, then
            validating, then writing (:func:`planned_steps` of them).

    Returns:
        What was written (``graphs``), what was unchanged and skipped (``skipped``), and the verdict.

    Raises:
        BadInputError: A file cannot be read, or two files describe one source.
        ValidationFailed: The store would not conform; nothing was written.

    >>> from kg import FactStore
    >>> store = FactStore.in_memory(); first = load(store)
    >>> again = load(store)
    >>> len(again.graphs), len(again.skipped) == len(first.graphs)
    (0, True)
    """
    step = progress or (lambda description: None)
    expanded = expand_paths(paths)
    if not expanded:
        raise BadInputError("No files to load.")
    if not check:
        with keeping(store, graphs=_graphs_of(expanded)):
            forget_validation(store)
            return store.load(expanded, check=False, progress=step)
    rules = rules_digest()
    stored = store.file_hashes()
    # The manifest alone says what is stored (a graph and its record are written and removed together):
    # no count of the store's triples, which at a million costs seconds.
    by_hash = {digest: graph for graph, digest in stored.items()}
    hashes = {path: file_sha256(path) for path in expanded}
    known_valid = validated_under(store) == rules
    if not known_valid or len(set(hashes.values())) != len(hashes):
        return _full(store, expanded, rules, step, stored, hashes)  # (two identical files: the full path names them)
    unchanged = [p for p in expanded if hashes[p] in by_hash]
    changed = [p for p in expanded if hashes[p] not in by_hash]
    for path in unchanged:
        step(f"unchanged: {path}")
    skipped = {by_hash[hashes[p]]: display_path(p) for p in unchanged}
    if not changed:
        step("validating: nothing changed")
        step("writing: nothing to write")
        keep_up_to_date(store)  # kept answers missing or of another generation (a write kg did not follow): made again
        return LoadReport(validation=ValidationReport(True, Graph(), "unchanged since the store last validated"),
                          skipped=skipped)
    if sum(p.stat().st_size for p in changed) > PART_BYTES:
        return _full(store, changed, rules, step, stored, hashes, skipped=skipped)  # a large batch: validated in full (in parts)
    for path in changed:
        step(f"reading {path}")
    step("checking the changed files against what they touch in the store")
    try:
        added = check_files(store, changed, replace=True)
    except BadInputError:
        # Not a source, or it describes what another graph does: kg add would refuse it; a load validates it whole.
        return _full(store, changed, rules, lambda description: None, stored, hashes, skipped=skipped)
    if not added.conforms:
        raise ValidationFailed(added.validation)
    step("writing")
    with keeping(store, graphs=[str(f.graph_iri) for f in added.parsed]):
        store.write(added.parsed, records=_history(store, {g: added.files[g] for g in added.replaced}))
        store.update(_record_validation(rules))
    return LoadReport(validation=added.validation, graphs={str(f.graph_iri): len(f.graph) for f in added.parsed},
                      files={str(f.graph_iri): display_path(f.path) for f in added.parsed}, skipped=skipped,
                      replaced=list(added.replaced))


def _full(store, paths: list[Path], rules: str, step, stored: dict[str, str], hashes: dict[Path, str], *,
          skipped: dict[str, str] | None = None) -> LoadReport:
    """Validate the files with everything else the store holds, write them (keeping the versions of the
    sources they replace), and record the rules.

    Args:
        stored: The SHA-256 of each stored graph's file (the manifest's record), by graph IRI.
        hashes: The SHA-256 of each file given, by path.
    """
    known = set(stored.values())
    replacing = {}
    # Only files whose content the store does not hold can replace a stored graph (none into an empty store).
    for path in (p for p in paths if stored and hashes[p] not in known):
        graph = str(sniff_facts_file(path).graph_iri)
        if graph in stored and is_stored_source(store, URIRef(graph)):
            replacing[graph] = display_path(path)
    with keeping(store, graphs=_graphs_of(paths)):
        report = store.load(paths, check=True, progress=step, records=_history(store, replacing))
        store.update(_record_validation(rules))
    report.skipped = skipped or {}
    report.replaced = sorted(replacing)
    return report


def _graphs_of(paths: list[Path]) -> list[str]:
    """The graphs files describe (read from each file's head, not parsed whole)."""
    return [str(sniff_facts_file(path).graph_iri) for path in paths]


def _history(store, replacing: dict[str, str]) -> dict[str, str]:
    """History records of the sources a load replaces (graph IRI → the changed file)."""
    now = now_utc()
    return {graph: update for graph, file in replacing.items()
            for update in history_records(store, [URIRef(graph)], reason=f"kg load: its file {file} changed",
                                          now=now).values()}


def planned_steps(paths: Iterable[str | Path] | None, *, check: bool = True) -> int:
    """How many progress steps :func:`load` reports for these paths: one per file, validating, writing."""
    return len(expand_paths(paths)) + 2
