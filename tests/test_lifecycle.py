"""A source's life: removed (refused while others point into it, atomically, never the
ontology or reference data), noticed when its file is gone, and listed with its title, file,
hash and times — on the embedded store and on a real `oxigraph serve`, through the same code."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.endpoint import Endpoint, RemoteStore
from kg.errors import BadInputError
from kg.lifecycle import ReferencedSourceError, remove_sources
from kg.queries import run_query
from kg.resources import default_load_paths, facts_dir
from kg.store import FactStore

from conftest import FIXTURES
from test_endpoint import oxigraph_server

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


def content(store) -> set:
    """What every graph holds, blank nodes folded (for 'unchanged' across stores)."""
    triples = set()
    for graph in store.graphs():
        for s, p, o in store.graph(graph):
            triples.add((graph, *("_:b" if type(t).__name__ == "BNode" else str(t) for t in (s, p, o))))
    return triples


def test_remove_refuses_while_referenced_then_removes_atomically(target, tmp_path):
    from kg.incremental import add_files

    with target.store() as store:
        store.load()
        add_files(store, [MONITOR])
        add_files(store, [restating_source(tmp_path)])
        before = content(store)
        with pytest.raises(ReferencedSourceError, match="fixture-conflicting-monitor/attacks-2024-h1"):
            remove_sources(store, ["fictional-monitor-2024"])
        assert content(store) == before  # a refused removal changes nothing
        for protected in ("https://w3id.org/conflict-kg/id/reference", "https://w3id.org/conflict-kg/ontology"):
            with pytest.raises(BadInputError):
                remove_sources(store, [protected])
    refused = target.kg("remove", "fictional-monitor-2024")
    assert refused.exit_code == 2 and "Nothing was removed" in refused.output
    dry = target.kg("remove", "fixture-conflicting-monitor", "--dry-run")
    assert dry.exit_code == 0 and "would remove" in dry.output
    with target.store() as store:
        assert content(store) == before
    # Removing the referring source and the monitor together: both go, and so do their manifest records.
    done = target.kg("remove", "fixture-conflicting-monitor", MONITOR)
    assert done.exit_code == 0, done.output
    with target.store() as store:
        assert MONITOR_GRAPH not in store.graphs() and MONITOR_GRAPH not in store.manifest()
        rows = run_query("compare-periods", store=store, params={"across_sources": "yes"}).rows
        assert [r["value_a"] for r in rows] == [153]  # answers come from what is left


def test_force_removes_a_referenced_source_and_validation_then_names_the_dangling_link(target, tmp_path):
    from kg.incremental import add_files

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
