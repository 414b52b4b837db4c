"""A source's life: removed (refused while others point into it, atomically, never the
ontology or reference data), noticed when its file is gone, and listed with its title, file,
hash and times — on the embedded store and on a real `oxigraph serve`, through the same code."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.errors import BadInputError
from kg.model.resources import facts_dir
from kg.queries.catalogue import run_query
from kg.services.lifecycle import ReferencedSourceError, remove_sources
from kg.stores.oxigraph import FactStore
from kg.stores.sparql_protocol import Endpoint, RemoteStore

from conftest import FIXTURES
from servers import oxigraph_server

MONITOR = FIXTURES / "fictional-monitor-2024.ttl"
MONITOR_GRAPH = "https://w3id.org/conflict-kg/id/source/fictional-monitor-2024"


def restating_source(tmp_path):
    """A second fictional source whose claim restates the monitor's."""
    text = (FIXTURES / "conflicting-source.ttl").read_text(encoding="utf-8").replace(
        "kg:value 160 ;", "kg:value 160 ;\n    kg:restates <https://w3id.org/conflict-kg/id/claim/fictional-monitor-2024/"
        "attacks-2024-h1> ;", 1)
    path = tmp_path / "restating.ttl"
    path.write_text(text, encoding="utf-8")
    return path


class Target:
    """A store to open from the test (the library) and to name to the CLI, embedded or a real server."""

    def __init__(self, kind, tmp_path, url=None):
        self.kind, self.path, self.url = kind, tmp_path / "store", url
        self.args = ["--store", str(self.path)] if kind == "embedded" else ["--endpoint", url]

    @contextmanager
    def store(self):
        # The embedded store is closed again after each use: the CLI opens it in turn (one writer at a time).
        with (FactStore(self.path) if self.kind == "embedded" else RemoteStore(Endpoint.at(self.url))) as store:
            yield store

    def kg(self, *args):
        return CliRunner().invoke(main, [*map(str, args), *self.args])


@pytest.fixture(params=["embedded", "oxigraph-serve"])
def target(request, tmp_path):
    if request.param == "embedded":
        yield Target("embedded", tmp_path)
    else:
        with oxigraph_server(tmp_path / "server") as url:
            yield Target("server", tmp_path, url)


def test_remove_refuses_while_referenced_then_removes_atomically(target, tmp_path):
    from kg.services.add import add_files

    with target.store() as store:
        store.load()
        add_files(store, [MONITOR])
        add_files(store, [restating_source(tmp_path)])
        before = snapshot(store)
        with pytest.raises(ReferencedSourceError, match="fixture-conflicting-monitor/attacks-2024-h1"):
            remove_sources(store, ["fictional-monitor-2024"])
        assert snapshot(store) == before  # a refused removal changes nothing
        for protected in ("https://w3id.org/conflict-kg/id/reference", "https://w3id.org/conflict-kg/ontology"):
            with pytest.raises(BadInputError):
                remove_sources(store, [protected])
    refused = target.kg("remove", "fictional-monitor-2024")
    assert refused.exit_code == 2 and "Nothing was removed" in refused.output
    dry = target.kg("remove", "fixture-conflicting-monitor", "--dry-run")
    assert dry.exit_code == 0 and "would remove" in dry.output
    with target.store() as store:
        assert snapshot(store) == before
    # Removing the referring source and the monitor together: both go, and so do their manifest records.
    done = target.kg("remove", "fixture-conflicting-monitor", MONITOR)
    assert done.exit_code == 0, done.output
    with target.store() as store:
        assert MONITOR_GRAPH not in store.graphs() and MONITOR_GRAPH not in store.manifest()
        rows = run_query("compare-periods", store=store, params={"across_sources": "yes"}).rows
        assert [r["value_a"] for r in rows] == [153]  # answers come from what is left


def test_force_removes_a_referenced_source_and_validation_then_names_the_dangling_link(target, tmp_path):
    from kg.services.add import add_files

    with target.store() as store:
        store.load()
        add_files(store, [MONITOR])
        add_files(store, [restating_source(tmp_path)])
    result = target.kg("remove", "fictional-monitor-2024", "--force")
    assert result.exit_code == 0 and "point at nothing" in result.output
    with target.store() as store:
        assert any(p.shape == "kgsh:DanglingLinkShape" for p in store.validate().problems)


def test_stats_lists_each_source_with_title_file_hash_and_times(target, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with target.store() as store:
        store.load()
        record = store.manifest()["https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024"]
    assert record["file"].endswith("newsweek-isis-attacks-2024.ttl") and len(record["sha256"]) == 64
    assert record["added"] and record["changed"] >= record["added"]
    stats = target.kg("stats")
    assert stats.exit_code == 0, stats.output
    assert record["sha256"][:12] in stats.output and "Newsweek: ISIS" in stats.output


def test_load_of_a_folder_says_which_stored_sources_lost_their_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(facts_dir(), tmp_path / "facts")
    shutil.copy(MONITOR, tmp_path / "facts" / MONITOR.name)
    runner = CliRunner()
    assert runner.invoke(main, ["load", "--store", "s"]).exit_code == 0
    assert runner.invoke(main, ["load", "facts", "--store", "s"]).exit_code == 0
    (tmp_path / "facts" / MONITOR.name).unlink()
    again = runner.invoke(main, ["load", "facts", "--store", "s"])
    assert again.exit_code == 0
    assert "fictional-monitor-2024> is still in the store, but its file facts/fictional-monitor-2024.ttl is gone" in again.stderr
    assert "kg remove fictional-monitor-2024" in again.stderr
    with FactStore(tmp_path / "s") as store:
        assert MONITOR_GRAPH in store.graphs()  # never removed silently


def test_the_store_is_found_from_any_folder_of_the_project_and_a_foreign_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("KG_STORE", raising=False)
    shutil.copytree(facts_dir(), tmp_path / "facts")
    (tmp_path / "ontology").mkdir()
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["load"]).exit_code == 0
    deep = tmp_path / "notes" / "2024"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    stats = CliRunner().invoke(main, ["stats"])
    assert stats.exit_code == 0 and "newsweek-isis-attacks-2024" in stats.output
    assert not (deep / ".kg").exists()  # no second store built where the command ran
    foreign = tmp_path / "papers"
    foreign.mkdir()
    (foreign / "draft.txt").write_text("mine")
    refused = CliRunner().invoke(main, ["load", "--store", str(foreign)])
    assert refused.exit_code == 2 and "not a kg store" in refused.output
    assert sorted(p.name for p in foreign.iterdir()) == ["draft.txt"]


def snapshot(store) -> list[tuple]:
    """Every quad the store holds, kg's manifest and history included, in a fixed order (byte-for-byte)."""
    rows = store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    return sorted(tuple(term.n3() for term in row) for row in rows)


def corrected_monitor(tmp_path, value="161"):
    """The fictional monitor's file with its H1 figure corrected (160 → value)."""
    text = MONITOR.read_text(encoding="utf-8")
    assert 'kg:value 160 ;' in text and 'kg:valuePhrase "160"' in text
    path = tmp_path / "corrected" / MONITOR.name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace("kg:value 160 ;", f"kg:value {value} ;").replace(
        'kg:valuePhrase "160"', f'kg:valuePhrase "{value}"'), encoding="utf-8")
    return path


def monitor_figures(store, **params) -> list[str]:
    rows = run_query("who-said", store=store, params={"measure": "measure:attacks-claimed", **params}).rows
    return sorted(str(row["figure"]) for row in rows if "Fictional Monitor" in str(row["source_title"]))


def test_replace_keeps_the_old_version_as_history_answers_come_from_the_new_and_the_diff_shows_the_change(target, tmp_path):
    from kg.services.add import add_files
    from kg.services.lifecycle import diff, history

    with target.store() as store:
        store.load()
        add_files(store, [MONITOR])
        assert monitor_figures(store) == ["160"]
        before = snapshot(store)
    corrected = corrected_monitor(tmp_path)
    refused = target.kg("add", "--replace", corrected)  # no reason: refused before anything is written
    assert refused.exit_code == 2 and "needs a reason" in refused.output
    with target.store() as store:
        assert snapshot(store) == before
    done = target.kg("add", "--replace", corrected, "--reason", "The outlet corrected 160 to 161")
    assert done.exit_code == 0, done.output
    assert "replaced <https://w3id.org/conflict-kg/id/source/fictional-monitor-2024>" in done.output
    with target.store() as store:
        assert monitor_figures(store) == ["161"]  # answers come from the current version only
        versions = history(store, "fictional-monitor-2024")
        assert [v.number for v in versions] == [1, 2]
        assert versions[0].reason == "The outlet corrected 160 to 161" and versions[0].replaced
        assert versions[0].sha256 != versions[1].sha256 and versions[1].iri is None
        change = diff(store, "fictional-monitor-2024")
        assert len(change.removed) == len(change.added) == 2
        assert any('"160"' in line for line in change.removed) and any('"161"' in line for line in change.added)
    listed = target.kg("history", "fictional-monitor-2024")
    assert listed.exit_code == 0 and "replaced because: The outlet corrected 160 to 161" in listed.output and "version 2 (current)" in listed.output
    shown = target.kg("history", "fictional-monitor-2024", "--last")
    assert shown.exit_code == 0, shown.output
    assert '- fictional-monitor-2024/attacks-2024-h1 kg:value "160"^^xsd:integer' in shown.output
    assert '+ fictional-monitor-2024/attacks-2024-h1 kg:value "161"^^xsd:integer' in shown.output
    # A third version: numbered on, linked to the one before it, and the first change still shown.
    assert target.kg("add", "--replace", corrected_monitor(tmp_path, "162"), "--reason", "second correction").exit_code == 0
    with target.store() as store:
        assert [v.number for v in history(store, "fictional-monitor-2024")] == [1, 2, 3]
        assert any('"161"' in line for line in diff(store, "fictional-monitor-2024", 1).added)
        assert monitor_figures(store) == ["162"]
        assert MONITOR_GRAPH not in store.graphs() or "https://w3id.org/conflict-kg/id/history" not in store.graphs()


def test_history_of_a_source_never_replaced_and_of_a_version_that_does_not_exist(target):
    with target.store() as store:
        store.load()
    listed = target.kg("history", "newsweek-isis-attacks-2024")
    assert listed.exit_code == 0 and "version 1 (current)" in listed.output
    none = target.kg("history", "newsweek-isis-attacks-2024", "--last")
    assert none.exit_code == 2 and "has one version only" in none.output
    unknown = target.kg("history", "no-such-source")
    assert unknown.exit_code == 2 and "not a source in the store" in unknown.output


def test_a_retracted_claim_is_left_out_of_answers_listed_by_its_query_and_can_be_withdrawn(target):
    from kg.services.add import add_files

    with target.store() as store:
        store.load()
        add_files(store, [MONITOR])
        conflicts = len(run_query("disagreements", store=store).rows)
    done = target.kg("retract", "fictional-monitor-2024/attacks-2024-h1", "--reason", "The outlet withdrew it",
                     "--date", "2024-08-01")
    assert done.exit_code == 0, done.output
    with target.store() as store:
        assert monitor_figures(store) == []
        assert monitor_figures(store, include_retracted="yes") == ["160"]
        assert len(run_query("disagreements", store=store).rows) < conflicts  # 160 vs 153 no longer listed
        listed = run_query("retracted", store=store).rows
        assert [(row["kind"], str(row["value"]), row["reason"], str(row["date"])) for row in listed] == [
            ("claim", "160", "The outlet withdrew it", "2024-08-01")]
        # The conflict warning about a retracted figure is gone too; the retraction record itself validates.
        problems = store.validate().problems
        assert not [p for p in problems if p.shape == "kgsh:ConflictingFigureShape" and "160" in p.message]
        assert not [p for p in problems if p.severity == "Violation"]
        before = snapshot(store)
    again = target.kg("retract", "fictional-monitor-2024/attacks-2024-h1", "--reason", "twice")
    assert again.exit_code == 2 and "already retracted" in again.output
    unknown = target.kg("retract", "fictional-monitor-2024/attacks-likely-to-rise", "fictional-monitor-2024/no-such-claim",
                        "--reason", "x")
    assert unknown.exit_code == 2 and "no-such-claim is not a claim" in unknown.output
    with target.store() as store:
        assert snapshot(store) == before  # refused retractions changed nothing
    # A claim may be named by its IRI too, bracketed as in a table.
    undone = target.kg("retract", "<https://w3id.org/conflict-kg/id/claim/fictional-monitor-2024/attacks-2024-h1>", "--undo")
    assert undone.exit_code == 0
    with target.store() as store:
        assert monitor_figures(store) == ["160"] and not run_query("retracted", store=store).rows


def test_retracting_a_source_empties_every_stored_query_of_it_and_include_retracted_gives_all_back():
    """Every stored query that reads claims leaves out a retracted source's, and gives them back on request."""
    from kg.queries.catalogue import load_catalogue
    from kg.services.lifecycle import retract
    from kg.stores.base import now_utc

    store = FactStore.in_memory()
    store.load()
    catalogue = load_catalogue()
    reading = [q for q in catalogue.values() if any(p.name == "include_retracted" for p in q.params)]
    assert len(reading) >= 15, [q.name for q in reading]
    # Queries that need a parameter get their example (reporting-chain: a claim or words).
    given = {q.name: {name: q.param(name).example for name in q.requires_one_of[:1]} for q in reading}
    before = {q.name: run_query(q.name, store=store, params=given[q.name]).rows for q in reading}
    assert sum(map(len, before.values())) > 100
    retract(store, ["newsweek-isis-attacks-2024"], reason="fabricated (a test)", now=now_utc())
    for query in reading:
        assert run_query(query.name, store=store, params=given[query.name]).rows == [], query.name
        again = run_query(query.name, store=store, params={**given[query.name], "include_retracted": "yes"}).rows
        assert again == before[query.name], query.name
    assert [row["kind"] for row in run_query("retracted", store=store).rows] == ["source"]


def test_removing_a_source_removes_its_history_and_retractions(target, tmp_path):
    from kg.services.add import add_files
    from kg.services.lifecycle import retract
    from kg.stores.base import now_utc

    with target.store() as store:
        store.load()
        add_files(store, [MONITOR])
        add_files(store, [corrected_monitor(tmp_path)], replace=True, reason="corrected")
        retract(store, ["fictional-monitor-2024/attacks-2024-h1"], reason="withdrawn", now=now_utc())
    assert target.kg("remove", "fictional-monitor-2024").exit_code == 0
    with target.store() as store:
        left = [row for row in snapshot(store) if "fictional-monitor-2024" in " ".join(row)]
        assert left == []


def test_a_source_file_may_not_assert_retractions_or_versions(tmp_path):
    text = MONITOR.read_text(encoding="utf-8") + (
        "\n<https://w3id.org/conflict-kg/id/retraction/newsweek-isis-attacks-2024> a kg:Retraction ;\n"
        "    kg:retracts <https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024> .\n")
    path = tmp_path / MONITOR.name
    path.write_text(text, encoding="utf-8")
    store = FactStore.in_memory()
    store.load()
    from kg.services.add import add_files

    with pytest.raises(BadInputError, match="kg:Retraction, .*kg:retracts|kg:retracts"):
        add_files(store, [path])
