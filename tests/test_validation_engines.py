"""The fast validation engine (SHACL-SPARQL constraints run by Oxigraph) gives exactly
pySHACL's report: on every broken copy that breaks a SPARQL shape, and on a synthetic corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import RDF, Graph
from rdflib.namespace import SH

from kg.model.namespaces import KG

from kg.authoring.synth import synthesize
from kg.model.resources import ontology_path, shapes_path
from kg.validation.validator import validate

from conftest import FIXTURES
from test_shapes import CASES, WARNING_CASES, _broken

SPARQL_SHAPES = {str(s).rsplit("#", 1)[1] for s in Graph().parse(shapes_path()).subjects(SH.sparql, None)}


def _report(report):
    return sorted((p.severity, p.focus, p.focus_label, p.shape, p.message, p.value or "", p.file or "") for p in report.problems)


AGREEMENT_CASES = [c for c in CASES + WARNING_CASES if c.values[1] in SPARQL_SHAPES] + [CASES[0]]


def test_engines_agree_on_every_broken_fact_at_once(facts_graph, reference_graph):
    """Every broken copy's change applied to one graph, validated once by each engine (pySHACL alone runs each
    SPARQL constraint once per focus node: once for all cases, not once per case)."""
    graph = _broken(facts_graph, reference_graph, AGREEMENT_CASES[0].values[0])
    for case in AGREEMENT_CASES[1:]:
        graph = _broken(graph, Graph(), case.values[0])
    fast, reference = validate(graph, engine="oxigraph"), validate(graph, engine="pyshacl")
    assert fast.conforms == reference.conforms is False
    assert _report(fast) == _report(reference)
    found = {p.shape for p in fast.problems}
    # The no-claimant case removes the claimant the broken chain's first step is checked against.
    masked = {"kgsh:ReportingChainShape"}
    assert {f"kgsh:{case.values[1]}" for case in AGREEMENT_CASES} - masked <= found


@pytest.mark.exhaustive
@pytest.mark.parametrize("update, shape, message", AGREEMENT_CASES)
def test_engines_agree_on_broken_facts(facts_graph, reference_graph, update, shape, message):
    graph = _broken(facts_graph, reference_graph, update)
    fast, reference = validate(graph, engine="oxigraph"), validate(graph, engine="pyshacl")
    assert fast.conforms == reference.conforms
    assert _report(fast) == _report(reference)
    assert any(p.shape == f"kgsh:{shape}" for p in fast.problems)


def test_engines_agree_on_a_synthetic_corpus_and_find_every_planted_violation(tmp_path):
    summary = synthesize(sources=8, seed=5, out=tmp_path, invalid_share=0.5, conflict_share=0.3)
    files = [ontology_path(), *sorted((tmp_path / "facts").glob("*.ttl"))]
    from kg.model.resources import facts_dir

    files.insert(1, facts_dir() / "reference.ttl")
    fast, reference = validate(files, engine="oxigraph"), validate(files, engine="pyshacl")
    assert _report(fast) == _report(reference)
    expected = json.loads((tmp_path / "expected-violations.json").read_text())
    assert summary["invalid"] == len(expected) > 0
    found = {(p.file.rsplit("/", 1)[-1], p.shape) for p in fast.problems if p.severity == "Violation"}
    planted = {(name, shape) for name, items in expected.items() for _, shape in items}
    assert found == planted
    assert summary["conflicts"] > 0 and any(p.shape == "kgsh:ConflictingFigureShape" for p in fast.problems)


def test_a_valid_synthetic_corpus_conforms(tmp_path):
    synthesize(sources=8, seed=2, out=tmp_path)
    from kg.model.resources import facts_dir

    report = validate([ontology_path(), facts_dir() / "reference.ttl", *sorted((tmp_path / "facts").glob("*.ttl"))])
    assert report.conforms, report.to_text()


def test_synth_cli_is_deterministic_for_a_seed(tmp_path):
    from click.testing import CliRunner

    from kg.cli.commands import main

    for name in ("a", "b"):
        result = CliRunner().invoke(main, ["synth", "--sources", "4", "--seed", "11", "--out", str(tmp_path / name),
                                           "--invalid-share", "0.5"])
        assert result.exit_code == 0 and "wrote 4 sources" in result.output
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 4 * 2 + 2
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


# --- validation in parts (kg.validation.parts): the same report as validating everything at once ---

CROSS_FILE_CASES = [c for c in CASES + WARNING_CASES
                    if c.values[1].startswith(("Actor", "Person")) or c.values[1] in SPARQL_SHAPES] + CASES[:12:3]


def _as_files(graph, facts_graph, reference_graph, folder):
    """Split a graph back into files as they were loaded: reference data, the facts, and any other source."""
    reference_subjects, facts_subjects = set(reference_graph.subjects()), set(facts_graph.subjects())
    split = {"reference": Graph(), "facts": Graph(), "other": Graph()}
    for triple in graph:
        name = "reference" if triple[0] in reference_subjects else "facts" if triple[0] in facts_subjects else "other"
        split[name].add(triple)
    if not any(split["other"].subjects(RDF.type, KG.SourceDocument)):
        split["facts"] += split.pop("other")
    paths = []
    for name, part in split.items():
        paths.append(folder / f"{name}.ttl")
        part.serialize(paths[-1], format="turtle")
    return paths


@pytest.mark.parametrize("update, shape, message", CROSS_FILE_CASES)
def test_validation_in_parts_gives_the_whole_report_on_broken_facts(facts_graph, reference_graph, tmp_path,
                                                                   update, shape, message):
    files = _as_files(_broken(facts_graph, reference_graph, update), facts_graph, reference_graph, tmp_path)
    whole, parts = validate(files, part_bytes=10**12), validate(files, part_bytes=1)
    assert f"in {len(files)} parts" in parts.results_text and "parts" not in whole.results_text
    assert parts.conforms == whole.conforms
    assert _report(parts) == _report(whole)
    assert any(p.shape == f"kgsh:{shape}" for p in parts.problems)


def _synthetic_files(folder):
    from kg.model.resources import facts_dir

    synthesize(sources=8, seed=5, out=folder, invalid_share=0.5, conflict_share=0.3)
    return [ontology_path(), facts_dir() / "reference.ttl", *sorted((folder / "facts").glob("*.ttl")),
            *sorted(facts_dir().glob("n*.ttl"))]


@pytest.mark.parametrize("part_bytes", [pytest.param(1, id="a-file-a-part"), pytest.param(40_000, id="a-few-files-a-part")])
@pytest.mark.parametrize("workers", [pytest.param(1, id="in-this-process"), pytest.param(2, id="in-two-forked-processes")])
def test_validation_in_parts_gives_the_whole_report_on_a_synthetic_corpus(tmp_path, monkeypatch, part_bytes, workers):
    import kg.validation.parts as parts_module

    files = _synthetic_files(tmp_path)
    monkeypatch.setattr(parts_module, "workers_for", lambda *sizes: workers)
    whole, parts = validate(files, part_bytes=10**12), validate(files, part_bytes=part_bytes)
    assert "parts" in parts.results_text
    assert parts.conforms is whole.conforms is False
    assert _report(parts) == _report(whole)
    assert len(parts.problems) == len(whole.problems) > 5
    assert sorted((p.focus, p.shape, p.file, p.line) for p in parts.problems) == sorted(
        (p.focus, p.shape, p.file, p.line) for p in whole.problems)


def test_a_file_that_does_not_parse_is_named_as_well_when_parts_are_read_by_forked_processes(tmp_path, monkeypatch):
    import kg.validation.parts as parts_module
    from kg.model.errors import BadInputError

    files = _synthetic_files(tmp_path)
    files[4].write_text(files[4].read_text(encoding="utf-8") + "\nthis is not turtle .\n", encoding="utf-8")
    messages = []
    for workers in (1, 2):
        monkeypatch.setattr(parts_module, "workers_for", lambda *sizes: workers)
        with pytest.raises(BadInputError) as raised:
            validate(files, part_bytes=1)
        messages.append(str(raised.value))
    assert messages[0] == messages[1] and files[4].name in messages[0]


def _die(number):
    import os

    os._exit(9)  # as a worker the kernel's out-of-memory killer stops


def test_a_worker_process_that_dies_is_an_error_not_a_wait(tmp_path, monkeypatch):
    import kg.validation.parts as parts_module
    from kg.model.errors import KgError

    files = _synthetic_files(tmp_path)
    monkeypatch.setattr(parts_module, "workers_for", lambda *sizes: 2)
    monkeypatch.setattr(parts_module, "_check_part", _die)
    with pytest.raises(KgError, match="worker processes ended unexpectedly"):
        validate(files, part_bytes=1)


@pytest.mark.parametrize("where", ["embedded", "oxigraph-serve"])
def test_a_large_store_is_validated_in_parts_with_the_same_report(tmp_path, where):
    """On either store: over an endpoint each graph goes to a temporary file as the server sends it."""
    from contextlib import nullcontext

    from kg.model.resources import default_load_paths
    from kg.stores.oxigraph import FactStore
    from kg.stores.sparql_protocol import Endpoint, RemoteStore
    from servers import oxigraph_server

    with (nullcontext() if where == "embedded" else oxigraph_server(tmp_path / "server")) as url, \
            (FactStore(tmp_path / "store") if url is None else RemoteStore(Endpoint.at(url))) as store:
        store.load([*default_load_paths(), FIXTURES / "conflicting-source.ttl"])
        whole, parts = store.validate(part_bytes=10**12), store.validate(part_bytes=1)
    assert "in " in parts.results_text and "parts" in parts.results_text and "parts" not in whole.results_text
    assert parts.conforms is whole.conforms is True
    assert _report(parts) == _report(whole)
    assert any(p.shape == "kgsh:ConflictingFigureShape" for p in parts.problems)


def test_a_large_load_is_validated_in_parts_and_a_violation_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    import importlib

    import kg.stores.oxigraph
    from kg.model.errors import ValidationFailed
    from kg.model.resources import default_load_paths
    from kg.stores.oxigraph import FactStore

    monkeypatch.setattr(kg.stores.oxigraph, "PART_BYTES", 1)  # every load counts as large
    monkeypatch.setattr(importlib.import_module("kg.validation.parts"), "PART_BYTES", 1)
    monkeypatch.setattr(importlib.import_module("kg.validation.validator"), "PART_BYTES", 1)  # the package exports a function of that name
    broken = tmp_path / "broken.ttl"
    text = (FIXTURES / "conflicting-source.ttl").read_text()
    broken.write_text(text.replace("kg:claimant ", "kg:claimantNote ", 1))  # a claim without its claimant
    with FactStore(tmp_path / "store") as store:
        with pytest.raises(ValidationFailed) as failed:
            store.load([*default_load_paths(), broken])
        assert "parts" in failed.value.report.results_text
        assert any(p.shape == "kgsh:ClaimClaimantShape" for p in failed.value.report.problems)
        assert store.graphs() == {}
        report = store.load()
        assert report.validation.conforms and "parts" in report.validation.results_text
        assert len(store.graphs()) == len(default_load_paths())


def test_loading_into_a_large_store_validates_the_new_file_with_the_stored_graphs_in_parts(tmp_path, monkeypatch):
    import importlib

    import kg.stores.oxigraph
    from kg.model.resources import default_load_paths
    from kg.stores.oxigraph import FactStore

    reports = {}
    for mode, limit in (("whole", 10**12), ("parts", 1)):
        monkeypatch.setattr(kg.stores.oxigraph, "PART_BYTES", limit)
        monkeypatch.setattr(importlib.import_module("kg.validation.parts"), "PART_BYTES", limit)
        monkeypatch.setattr(importlib.import_module("kg.validation.validator"), "PART_BYTES", limit)
        with FactStore(tmp_path / mode) as store:
            store.load(default_load_paths())
            reports[mode] = store.load([FIXTURES / "conflicting-source.ttl"]).validation
    assert "parts" in reports["parts"].results_text and "parts" not in reports["whole"].results_text
    assert _report(reports["parts"]) == _report(reports["whole"])
    conflicts = [p for p in reports["parts"].problems if p.shape == "kgsh:ConflictingFigureShape"]
    assert conflicts and {p.file for p in conflicts} <= {None, str(FIXTURES / "conflicting-source.ttl")}


_KILLED_MIDWAY = """
import sys, time
from pathlib import Path
import kg.validation.parts as parts
from kg.validation.validator import validate

def _slow(number):
    time.sleep(120)

parts.workers_for = lambda *sizes: 2
parts._check_part = _slow
print("validating", flush=True)
validate([Path(p) for p in sys.argv[1:]], part_bytes=1)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc (Linux)")
def test_workers_end_with_a_validation_killed_midway(tmp_path):
    """`kg load` killed by hand (or by the system) while its workers check parts: they go too, instead of
    waiting forever, with the memory they hold, on a queue their siblings keep open."""
    import os
    import signal
    import subprocess
    import sys
    import time

    files = _synthetic_files(tmp_path)
    process = subprocess.Popen([sys.executable, "-c", _KILLED_MIDWAY, *map(str, files)], stdout=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        assert process.stdout.readline().strip() == "validating"
        deadline = time.monotonic() + 60
        while len(workers := _children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{w}").exists() for w in workers)
    finally:
        process.kill()
        for worker in workers:
            if Path(f"/proc/{worker}").exists():
                os.kill(worker, signal.SIGKILL)
