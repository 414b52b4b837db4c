"""`kg load` on a store that already holds the corpus: unchanged files are skipped, changed and
new ones checked against what they touch — and the verdict is always the one a full
validation of the resulting files gives. Embedded and over a real `oxigraph serve`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.model.errors import ValidationFailed
from kg.model.namespaces import MANIFEST_GRAPH
from kg.model.namespaces import VALIDATED_UNDER
from kg.model.resources import ontology_path
from kg.services.lifecycle import history
from kg.services.load import load, validated_under
from kg.stores.hashing import file_sha256, rules_digest
from kg.stores.oxigraph import FactStore
from kg.stores.sparql_protocol import Endpoint, RemoteStore
from kg.validation.validator import validate

from conftest import FIRST_SOURCE_FACTS, FIXTURES, REFERENCE_FACTS
from servers import oxigraph_server

MONITOR = FIXTURES / "fictional-monitor-2024.ttl"  # FICTIONAL
NEWSWEEK_GRAPH = "https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024"
MONITOR_GRAPH = "https://w3id.org/conflict-kg/id/source/fictional-monitor-2024"


@dataclass
class Target:
    kind: str
    url: str | None = None
    path: Path | None = None

    def store(self):
        return RemoteStore(Endpoint.at(self.url)) if self.url else FactStore(self.path)


@pytest.fixture(params=["embedded", "server"])
def target(request, tmp_path):
    if request.param == "embedded":
        yield Target("embedded", path=tmp_path / "store")
    else:
        with oxigraph_server(tmp_path / "server") as url:
            yield Target("server", url=url)


@pytest.fixture()
def corpus(tmp_path) -> Path:
    """A folder with the ontology, the reference data, the first source and a fictional second one."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in (ontology_path(), REFERENCE_FACTS, FIRST_SOURCE_FACTS, MONITOR):
        shutil.copy(path, folder / path.name)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def violations(report) -> list[tuple[str, str]]:
    return sorted((p.focus, p.shape) for p in report.problems if p.severity == "Violation")


def snapshot(store) -> set:
    return set(store.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows)


def full_validation(corpus: Path):
    return validate(sorted(corpus.glob("*.ttl")))


def test_an_unchanged_corpus_is_not_read_again(target, corpus):
    with target.store() as store:
        first = load(store, [corpus])
        assert first.conforms and len(first.graphs) == 4
        before = snapshot(store)
        again = load(store, [corpus])
        assert again.graphs == {}
        assert sorted(again.skipped) == sorted(first.graphs)
        assert again.conforms == full_validation(corpus).conforms is True
        assert snapshot(store) == before


def test_a_load_over_an_endpoint_records_each_graph_when_recording_in_batches(corpus, tmp_path, monkeypatch):
    """The manifest is written a batch of graphs per request: every graph recorded with its file's SHA-256 (an
    unchanged reload then skips each), its first load's date kept when it is replaced."""
    import kg.stores.sparql_protocol as protocol

    monkeypatch.setattr(protocol, "RECORDS_PER_REQUEST", 3)  # four files: a batch of three, then one
    with oxigraph_server(tmp_path / "server") as url, RemoteStore(Endpoint.at(url)) as store:
        report = load(store, [corpus])
        files = {graph: corpus / Path(path).name for graph, path in report.files.items()}
        assert len(files) == 4
        assert store.file_hashes() == {graph: file_sha256(path) for graph, path in files.items()}
        created = lambda: {str(g): str(c) for g, c in store.select(
            f"SELECT ?g ?c WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ ?g <http://purl.org/dc/terms/created> ?c }} }}").rows}
        first = created()
        assert set(first) == set(files)
        assert sorted(load(store, [corpus]).skipped) == sorted(files)
        edit(corpus / MONITOR.name, "kg:value 160 ;", "kg:value 153 ;")
        assert load(store, [corpus]).replaced == [MONITOR_GRAPH]
        assert store.file_hashes()[MONITOR_GRAPH] == file_sha256(corpus / MONITOR.name)
        assert created() == first


def test_graphs_sent_but_not_recorded_are_loaded_by_the_next_load(corpus, tmp_path):
    """A load killed between a batch's PUTs and its record leaves graphs the manifest does not record: not kg's
    (not counted or queried), and the same load run again replaces and records them."""
    import requests

    with oxigraph_server(tmp_path / "server") as url, RemoteStore(Endpoint.at(url)) as store:
        for path in (corpus / MONITOR.name, corpus / FIRST_SOURCE_FACTS.name):
            graph = MONITOR_GRAPH if path.name == MONITOR.name else NEWSWEEK_GRAPH
            requests.put(url.rsplit("/", 1)[0] + "/store", params={"graph": graph}, data=path.read_bytes(),
                         headers={"Content-Type": "text/turtle"}, timeout=30).raise_for_status()
        assert store.graphs() == {} and store.file_hashes() == {}
        report = load(store, [corpus])
        assert report.conforms and len(report.graphs) == 4
        assert set(store.file_hashes()) == set(report.graphs) == set(store.graphs())
        assert sorted(load(store, [corpus]).skipped) == sorted(report.graphs)


CHANGES = [
    pytest.param("fictional-monitor-2024.ttl", "kg:value 160 ;", "kg:value 153 ;", True, id="valid-correction"),
    pytest.param("fictional-monitor-2024.ttl", "kg:measure measure:attacks-claimed ;", "kg:measure measure:nowhere ;",
                 False, id="a-measure-that-exists-nowhere"),
    pytest.param("fictional-monitor-2024.ttl", "oa:start 74 ;", "oa:start 75 ;", False, id="quote-offset-off-by-one"),
]


@pytest.mark.parametrize("name, old, new, valid", CHANGES)
def test_one_changed_file_is_checked_and_replaced_with_the_verdict_of_a_full_validation(target, corpus, name, old,
                                                                                        new, valid):
    with target.store() as store:
        load(store, [corpus])
        before = snapshot(store)
        edit(corpus / name, old, new)
        full = full_validation(corpus)
        assert full.conforms is valid
        if valid:
            report = load(store, [corpus])
            assert list(report.graphs) == [MONITOR_GRAPH] and report.replaced == [MONITOR_GRAPH]
            assert len(report.skipped) == 3
            assert violations(report.validation) == violations(full) == []
            versions = history(store, MONITOR_GRAPH)
            assert len(versions) == 2 and versions[0].reason == "kg load: its file " + str(corpus / name) + " changed"
            assert store.file_hashes()[MONITOR_GRAPH] == file_sha256(corpus / name)
        else:
            with pytest.raises(ValidationFailed) as failure:
                load(store, [corpus])
            assert violations(failure.value.report) == violations(full) != []
            assert snapshot(store) == before


def test_a_change_that_breaks_another_source_is_refused(target, corpus):
    """The monitor restates Newsweek's claim; a corrected Newsweek that renames the claim leaves the link dangling."""
    edit(corpus / MONITOR.name, "kg:value 160 ;",
         "kg:value 160 ;\n    kg:restates <https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1> ;")
    with target.store() as store:
        assert load(store, [corpus]).conforms
        before = snapshot(store)
        newsweek = corpus / FIRST_SOURCE_FACTS.name
        newsweek.write_text(newsweek.read_text(encoding="utf-8").replace("claim:attacks-2024-h1\n", "claim:attacks-first-half\n")
                            .replace("claim:attacks-2024-h1 ", "claim:attacks-first-half "), encoding="utf-8")
        full = full_validation(corpus)
        with pytest.raises(ValidationFailed) as failure:
            load(store, [corpus])
        assert violations(failure.value.report) == violations(full) != []
        assert snapshot(store) == before


def test_an_added_file_is_checked_and_written_the_rest_skipped(target, corpus):
    with target.store() as store:
        load(store, [corpus])
        shutil.copy(FIXTURES / "conflicting-source.ttl", corpus / "conflicting-source.ttl")
        report = load(store, [corpus])
        assert list(report.graphs) == ["https://w3id.org/conflict-kg/id/source/fixture-conflicting-monitor"]
        assert report.replaced == [] and len(report.skipped) == 4
        full = full_validation(corpus)
        assert report.conforms == full.conforms is True
        # The conflict with the monitor's figure is reported as a full validation reports it on the new file's claim.
        assert report.validation.problems and all("fixture-conflicting-monitor/" in p.focus
                                                  for p in report.validation.problems)
        assert sorted((p.severity, p.focus, p.shape) for p in report.validation.problems) == sorted(
            (p.severity, p.focus, p.shape) for p in full.problems if "fixture-conflicting-monitor/" in p.focus)


def test_a_removed_file_leaves_its_source_and_the_verdict(target, corpus):
    with target.store() as store:
        load(store, [corpus])
        before = snapshot(store)
        (corpus / MONITOR.name).unlink()
        report = load(store, [corpus])
        assert report.graphs == {} and len(report.skipped) == 3 and report.conforms
        assert snapshot(store) == before  # kg load never removes a source: kg remove does


def test_changed_reference_data_validates_everything(target, corpus):
    """The reference data is not a source: renaming a measure it defines breaks the unchanged sources that use it."""
    with target.store() as store:
        load(store, [corpus])
        before = snapshot(store)
        edit(corpus / REFERENCE_FACTS.name, "\nmeasure:attacks-claimed\n", "\nmeasure:attacks-claimed-renamed\n")
        full = full_validation(corpus)
        with pytest.raises(ValidationFailed) as failure:
            load(store, [corpus])
        assert violations(failure.value.report) == violations(full) != []
        assert snapshot(store) == before


def test_a_store_loaded_without_validation_is_validated_in_full_next_time(target, corpus):
    """Skipping unchanged files is only right when the store is known to conform."""
    edit(corpus / MONITOR.name, "kg:measure measure:attacks-claimed ;", "kg:measure measure:nowhere ;")
    with target.store() as store:
        load(store, [corpus], check=False)
        assert validated_under(store) is None
        with pytest.raises(ValidationFailed) as failure:
            load(store, [corpus])  # the files are unchanged, but the store was never validated: not skipped
        assert violations(failure.value.report) == violations(full_validation(corpus)) != []


def test_new_shapes_or_ontology_validate_everything_again(target, corpus):
    """The store records the rules it validated under; other rules (a new kg version) mean a full validation."""
    with target.store() as store:
        load(store, [corpus])
        assert validated_under(store) == rules_digest()
        store.update(f"DELETE WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{VALIDATED_UNDER}> ?r }} }} ; "
                     f"INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{VALIDATED_UNDER}> \"older rules\" }} }}")
        report = load(store, [corpus])
        assert report.skipped == {} and len(report.graphs) == 4 and report.conforms
        assert validated_under(store) == rules_digest()


def test_a_forced_removal_makes_the_next_load_validate_everything(target, corpus):
    """`kg remove --force` leaves links dangling: the store is no longer known to conform, and the next load says so."""
    from kg.services.lifecycle import remove_sources

    edit(corpus / MONITOR.name, "kg:value 160 ;",
         "kg:value 160 ;\n    kg:restates <https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1> ;")
    with target.store() as store:
        load(store, [corpus])
        remove_sources(store, ["newsweek-isis-attacks-2024"], force=True)
        assert validated_under(store) is None
        (corpus / FIRST_SOURCE_FACTS.name).unlink()
        with pytest.raises(ValidationFailed) as failure:
            load(store, [corpus])
        assert violations(failure.value.report) == violations(full_validation(corpus)) != []


def test_on_virtuoso_too_reloads_cost_what_changed_adds_check_against_the_store_and_stats_see_kgs_graphs(corpus, tmp_path):
    """The reload verdicts, kg add, kg validate --graph and kg stats on a real Virtuoso (one server, in sequence)."""
    from click.testing import CliRunner

    from kg.cli.commands import main
    from kg.services.add import add_files
    from servers import virtuoso_server

    with virtuoso_server(tmp_path / "virtuoso") as url, \
            RemoteStore(Endpoint.at(url, server="virtuoso", timeout=60)) as store:
        assert load(store, [corpus]).conforms
        again = load(store, [corpus])
        assert again.graphs == {} and len(again.skipped) == 4
        edit(corpus / MONITOR.name, "kg:value 160 ;", "kg:value 153 ;")  # a valid correction
        corrected = load(store, [corpus])
        assert corrected.replaced == [MONITOR_GRAPH] and len(corrected.skipped) == 3
        assert len(history(store, MONITOR_GRAPH)) == 2
        before = snapshot(store)
        edit(corpus / MONITOR.name, "kg:measure measure:attacks-claimed ;", "kg:measure measure:nowhere ;")
        with pytest.raises(ValidationFailed) as failure:
            load(store, [corpus])
        assert violations(failure.value.report) == violations(full_validation(corpus)) != []
        assert snapshot(store) == before
        added = add_files(store, [FIXTURES / "conflicting-source.ttl"])
        assert added.added and "https://w3id.org/conflict-kg/id/source/fixture-conflicting-monitor" in store.graphs()
        assert any(p.shape == "kgsh:ConflictingFigureShape" for p in added.validation.problems)  # checked against the store
        endpoint = ["--endpoint", url, "--server", "virtuoso"]
        checked = CliRunner().invoke(main, ["validate", *endpoint, "--graph", MONITOR_GRAPH])
        assert checked.exit_code == 0 and "Validation conforms" in checked.output
        stats = CliRunner().invoke(main, ["stats", *endpoint])
        assert stats.exit_code == 0 and "Fictional Monitor" in stats.output
        assert "virtrdf" not in stats.output and "/DAV/" not in stats.output  # Virtuoso's own graphs are not kg's
