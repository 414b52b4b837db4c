"""A load killed at any point leaves the store with exactly its content before or after the load.

Real ``kg load`` processes are killed (SIGKILL, and SIGINT for Ctrl-C) at many points of a
load of a synthetic corpus; the store is then opened and its content compared — quads, not
files, since any open of a RocksDB store rewrites its log files.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.namespaces import GENERATION
from kg.model.resources import facts_dir, ontology_path
from kg.stores.oxigraph import FactStore

KG = [sys.executable, "-m", "kg.cli.commands"]


def content(path: Path) -> Counter:
    """Every quad of the store (blank nodes folded, their labels differ between loads), opened as kg opens it."""
    with FactStore(path) as store:
        quads = store.oxigraph.quads_for_pattern(None, None, None, None)
        # Blank-node labels, the manifest's load times and the store's generation (a new token at every write, even
        # one rolled back: kept answers then no longer count) differ between runs of the same load.
        timed = {"http://purl.org/dc/terms/created", "http://purl.org/dc/terms/modified", str(GENERATION)}
        def text(quad) -> str:
            terms = ["_:b" if isinstance(t, ox.BlankNode) else str(t)
                     for t in (quad.subject, quad.predicate, quad.object, quad.graph_name)]
            if quad.predicate.value in timed:
                terms[2] = "(a time)"
            return " ".join(terms)

        return Counter(text(q) for q in quads)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A corpus of 200 synthetic sources, a store holding the ontology and reference data (before),
    and the same store after loading the corpus (after)."""
    work = tmp_path_factory.mktemp("crash")
    assert CliRunner().invoke(main, ["synth", "--sources", "200", "--seed", "5", "--out", str(work / "corpus")]).exit_code == 0
    before = work / "before"
    with FactStore(before) as store:
        store.load([ontology_path(), facts_dir() / "reference.ttl"])
    after = work / "after"
    shutil.copytree(before, after)
    started = time.monotonic()
    subprocess.run([*KG, "load", "--store", str(after), "--no-validate", str(work / "corpus" / "facts")],
                   check=True, capture_output=True, cwd=work)
    duration = time.monotonic() - started
    return work, content(before), content(after), duration


@pytest.mark.parametrize("sig, fraction", [
    *(pytest.param(signal.SIGKILL, f, id=f"kill-at-{f:.0%}") for f in (0.35, 0.5, 0.65, 0.8, 0.95)),
    *(pytest.param(signal.SIGINT, f, id=f"ctrl-c-at-{f:.0%}") for f in (0.5, 0.8)),
])
def test_killed_load_leaves_before_or_after(corpus, tmp_path, fraction, sig):
    work, before, after, duration = corpus
    store = tmp_path / "store"
    shutil.copytree(work / "before", store)
    process = subprocess.Popen([*KG, "load", "--store", str(store), "--no-validate", str(work / "corpus" / "facts")],
                               cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(duration * fraction)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    found = content(store)
    assert found in (before, after), (f"killed at {fraction:.0%} of the load: {sum(found.values())} quads, "
                                      f"before {sum(before.values())}, after {sum(after.values())}")
    assert b"Traceback" not in err or sig == signal.SIGINT  # Python prints KeyboardInterrupt's traceback itself


def test_interrupted_load_is_reported_at_next_open(corpus, tmp_path):
    """A journal left by a killed load is rolled back at the next open, and `kg stats` says so."""
    work, before, _, _ = corpus
    store_path = tmp_path / "store"
    shutil.copytree(work / "before", store_path)
    with FactStore(store_path) as store:
        # What a killed load leaves: the journal entry and a graph written before the kill.
        manifest = ox.NamedNode("https://w3id.org/conflict-kg/id/manifest")
        graph = ox.NamedNode("https://w3id.org/conflict-kg/id/source/synth-5-000000")
        store.oxigraph.add(ox.Quad(manifest, ox.NamedNode("https://w3id.org/conflict-kg/id/manifest#pendingGraph"),
                                   graph, manifest))
        store.oxigraph.load(path=str(work / "corpus" / "facts" / "synth-5-000000.ttl"), format=ox.RdfFormat.TURTLE,
                            to_graph=graph)
    result = CliRunner().invoke(main, ["stats", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    assert "interrupted load (1 new graph written before it stopped" in result.stderr
    assert "synth-5-000000" in result.stderr
    assert content(store_path) == before


@pytest.mark.parametrize("fraction", [0.4, 0.7, 0.9])
def test_killed_export_leaves_the_old_file_or_the_new_and_nothing_else(corpus, tmp_path, fraction):
    work, _, _, _ = corpus
    out = tmp_path / "out" / "kg.nq"
    out.parent.mkdir()
    out.write_bytes(b"the previous export\n")
    started = time.monotonic()
    subprocess.run([*KG, "export", "--store", str(work / "after"), "--format", "nquads", "-o", str(out)],
                   check=True, capture_output=True)
    duration = time.monotonic() - started
    complete = out.read_bytes()
    out.write_bytes(b"the previous export\n")
    process = subprocess.Popen([*KG, "export", "--store", str(work / "after"), "--format", "nquads", "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(duration * fraction)
    process.kill()
    process.communicate(timeout=60)
    assert out.read_bytes() in (b"the previous export\n", complete)
    assert [p.name for p in out.parent.iterdir()] == ["kg.nq"]  # no temporary file left behind


def test_an_error_while_writing_keeps_the_old_file(tmp_path):
    from kg.model.atomicfile import atomic_output

    target = tmp_path / "report.html"
    target.write_text("old")
    target.chmod(0o640)
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as handle:
            handle.write(b"half of the new")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]
    with atomic_output(target) as handle:
        handle.write(b"new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640


def test_a_reader_during_a_load_says_it_is_under_way_and_leaves_it_alone(corpus, tmp_path):
    """While a writer holds the store with its journal open, `kg stats` reads and says a load is under way;
    it rolls nothing back (the writer is alive)."""
    import subprocess
    import sys

    work, before, _, _ = corpus
    store_path = tmp_path / "store"
    shutil.copytree(work / "before", store_path)
    holder = subprocess.Popen([sys.executable, "-c", f"""
import pyoxigraph as ox, sys
s = ox.Store({str(store_path)!r})
m = ox.NamedNode("https://w3id.org/conflict-kg/id/manifest")
s.add(ox.Quad(m, ox.NamedNode("https://w3id.org/conflict-kg/id/manifest#pendingGraph"),
              ox.NamedNode("https://w3id.org/conflict-kg/id/source/synth-5-000000"), m))
print("ready", flush=True)
sys.stdin.read()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(main, ["stats", "--store", str(store_path)])
        assert result.exit_code == 0, result.output
        assert "is under way or was stopped (1 new graph being written)" in result.stderr
        assert "interrupted load" not in result.stderr
    finally:
        holder.communicate("", timeout=30)


def _tables_alone(store: Path, into: Path) -> Counter:
    """The store's content as its tables hold it: a copy without the log files (RocksDB's ``*.log``)."""
    into.mkdir()
    for path in store.iterdir():
        if path.suffix != ".log":
            shutil.copy2(path, into / path.name)
    return content(into)


@pytest.mark.parametrize("write", [pytest.param("load", id="a-load"), pytest.param("add", id="an-add")])
def test_what_a_write_stored_is_in_the_tables_not_only_in_the_log(tmp_path, write):
    """RocksDB keeps writes in its log until it flushes them to its tables, and replays the log at every open —
    a read-only one each time: after a 10 M-triple load, 3.2 GB of log and 30 s before `kg query` could answer.
    kg flushes what it writes: the tables alone hold the store's content."""
    from kg.services.add import add_files
    from kg.services.load import load

    from conftest import FIXTURES

    store = tmp_path / "store"
    with FactStore(store) as opened:
        load(opened, [ontology_path(), facts_dir()])
    if write == "add":
        with FactStore(store) as opened:
            add_files(opened, [FIXTURES / "fictional-monitor-2024.ttl"])
    tables = _tables_alone(store, tmp_path / "copy")  # first: an open (content's too) replays the log
    expected = content(store)
    assert any("fictional-monitor-2024" in text for text in expected) is (write == "add")
    assert tables == expected
