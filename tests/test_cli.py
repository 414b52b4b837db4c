"""The kg command, driven in-process as a user would: answers, formats, exit codes, errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.resources import facts_dir

from conftest import FIXTURES


def kg(*args, **kwargs):
    return CliRunner().invoke(main, list(map(str, args)), **kwargs)


def test_help_lists_every_command_and_each_has_an_example():
    result = kg("--help")
    commands = sorted(main.commands)
    assert {"load", "validate", "query", "queries", "export", "stats", "add", "new-source", "coverage",
            "verify-quotes"} <= set(commands)
    for command in commands:
        assert command in result.output
        assert "Example:" in kg(command, "--help").output


def test_load_reports_graphs_and_validation(tmp_path):
    result = kg("load", "--store", tmp_path / "s")
    assert result.exit_code == 0
    assert "1468 triples into <https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024>" in result.output
    assert "conforms: 0 violations" in result.output


def test_loading_twice_leaves_the_store_as_it_was(tmp_path):
    from kg.stores.oxigraph import FactStore

    from rdflib.compare import isomorphic

    kg("load", "--store", tmp_path / "s")
    with FactStore(tmp_path / "s") as store:
        graphs = store.graphs()
        first = {iri: store.graph(iri) for iri in graphs}
    assert kg("load", "--store", tmp_path / "s").exit_code == 0
    with FactStore(tmp_path / "s") as store:
        assert store.graphs() == graphs
        # Blank nodes get new labels on each load; the graphs are the same up to that.
        assert all(isomorphic(store.graph(iri), first[iri]) for iri in graphs)


def test_query_table_shows_the_answer_and_its_evidence(store_path):
    result = kg("query", "compare-periods", "--store", store_path)
    assert result.exit_code == 0, result.output
    for expected in ("153", "121", "1.264", "306.8", "2.536", "US Central Command (CENTCOM)",
                     "source:newsweek-isis-attacks-2024", "claimed responsibility for 153 attacks"):
        assert expected in result.output


def test_query_csv_follows_the_w3c_format(store_path):
    result = kg("query", "compare-places", "--format", "csv", "--store", store_path)
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {(r["value_a"], r["value_b"], r["total"]) for r in rows} == {("137", "59", "196"), ("30", "14", "44"), ("74", "92", "166")}
    assert result.output.split("\r\n")[0].startswith("source_a_title,measure_label,place_a_label,value_a")


def test_query_tsv_follows_the_w3c_format(store_path):
    result = kg("query", "figures-by-place", "--format", "tsv", "--store", store_path)
    lines = result.output.splitlines()
    assert lines[0].split("\t")[:3] == ["?place_label", "?value", "?unit"]
    first = lines[1].split("\t")
    assert first[0] == '"Iraq"@en' and first[1] == "40" and first[2] == "<http://qudt.org/vocab/unit/PERCENT>"
    assert lines[2].split("\t")[1] == "33.3"


def test_query_tsv_of_literals_with_newlines_is_read_back_by_rdflib_and_oxigraph(store_path):
    """The evidence query's quotes hold newlines: each row stays one line, and both parsers read it back."""
    import pyoxigraph as ox
    from rdflib.plugins.sparql.results.tsvresults import TSVResultParser

    result = kg("query", "evidence", "--format", "tsv", "--store", store_path)
    assert result.exit_code == 0
    rows = list(ox.parse_query_results(result.output.encode("utf-8"), format=ox.QueryResultsFormat.TSV))
    parsed = TSVResultParser().parse(io.StringIO(result.output))
    assert len(rows) == len(parsed.bindings) == len(result.output.splitlines()) - 1 > 30
    assert any("\n" in row[v].value for row in rows for v in ("prefix", "suffix") if row[v] is not None)


def test_query_json_follows_the_w3c_format(store_path):
    result = kg("query", "reporting-chain", "--param", "text=153 attacks", "--format", "json", "--store", store_path)
    data = json.loads(result.output)
    assert data["head"]["vars"][:3] == ["claim", "step", "actor"]
    actors = [b["actor"]["value"] for b in data["results"]["bindings"]]
    assert actors == ["US Central Command (CENTCOM)", "Associated Press (AP)", "Newsweek"]
    assert data["results"]["bindings"][0]["step"] == {
        "type": "literal", "value": "0", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}


def test_query_on_plain_rdflib_gives_the_same_csv(store_path):
    on_store = kg("query", "totals-vs-parts", "--format", "csv", "--store", store_path).output
    on_rdflib = kg("query", "totals-vs-parts", "--format", "csv", "--engine", "rdflib").output
    assert on_store == on_rdflib and "consistent" in on_store


def test_show_query_prints_runnable_sparql_with_bound_parameters(store_path):
    result = kg("query", "claims-by-actor", "-p", "actor=actor:aanes", "--show-query")
    assert 'VALUES (?actor ?include_retracted) { (<https://w3id.org/conflict-kg/id/actor/aanes> "no") }' in result.output
    from kg.stores.oxigraph import FactStore

    with FactStore(store_path) as store:
        assert len(list(store.oxigraph.query(result.output, use_default_graph_as_union=True))) == 2


def test_query_file(tmp_path, store_path):
    query = tmp_path / "count.rq"
    query.write_text("PREFIX kg: <https://w3id.org/conflict-kg/ontology#>\n"
                     "SELECT (COUNT(?c) AS ?claims) WHERE { ?c kg:claimant ?who }\n")
    result = kg("query", "--file", query, "--format", "csv", "--store", store_path)
    assert result.output.splitlines() == ["claims", "40"]


def test_queries_lists_the_catalogue():
    result = kg("queries")
    assert "compare-periods" in result.output and "--param period_a=<iri> (default period:2024-h1)" in result.output


def test_validate_exit_codes(tmp_path):
    assert kg("validate").exit_code == 0
    broken = tmp_path / "broken.ttl"
    text = (facts_dir() / "newsweek-isis-attacks-2024.ttl").read_text()
    broken.write_text(text.replace("kg:value 153 ;", "kg:value -153 ;"))
    result = kg("validate", facts_dir() / "reference.ttl", broken)
    assert result.exit_code == 1
    assert "Violation: " in result.output and "newsweek-isis-attacks-2024/attacks-2024-h1" in result.output
    assert "non-negative" in result.output and "1 violation" in result.output
    assert kg("validate", tmp_path / "missing.ttl").exit_code == 2


@pytest.mark.parametrize("fmt, check", [
    pytest.param("json", lambda out: json.loads(out)["counts"]["Violation"] == 0, id="json"),
    pytest.param("turtle", lambda out: "sh:conforms true" in out, id="turtle"),
])
def test_validate_machine_formats(fmt, check):
    result = kg("validate", "--format", fmt)
    assert result.exit_code == 0 and check(result.output)


def test_validate_the_store(store_path):
    result = kg("validate", "--store", store_path)
    assert result.exit_code == 0 and "conforms" in result.output


def test_an_invalid_file_is_not_loaded(tmp_path, store_path):
    from kg.stores.oxigraph import FactStore

    with FactStore(store_path) as store:
        before = store.export("nquads")
    broken = tmp_path / "broken.ttl"
    broken.write_text((facts_dir() / "newsweek-isis-attacks-2024.ttl").read_text().replace(
        "kg:claimant actor:wilson-center ;", "", 1))
    result = kg("load", broken, "--store", store_path)
    assert result.exit_code == 1
    assert "nothing was loaded" in result.output
    with FactStore(store_path) as store:
        assert store.export("nquads") == before


def test_a_syntax_error_is_reported_with_line_column_and_caret(tmp_path, store_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix kg: <https://w3id.org/conflict-kg/ontology#> .\n\nkg:a kg:b kg:c ;\n    kg:d \"unterminated .\n")
    result = kg("load", bad, "--store", store_path)
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.output and "^" in result.output and "Traceback" not in result.output


def test_export_keeps_named_graphs(store_path, tmp_path):
    out = tmp_path / "kg.trig"
    assert kg("export", "--format", "trig", "--output", out, "--store", store_path).exit_code == 0
    from rdflib import Dataset

    dataset = Dataset()
    dataset.parse(out, format="trig")
    graphs = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert "https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024" in graphs
    assert "https://w3id.org/conflict-kg/id/reference" in graphs


def test_stats(store_path):
    result = kg("stats", "--store", store_path)
    assert result.exit_code == 0
    assert "1468" in result.output and "newsweek-isis-attacks-2024.ttl" in result.output
    assert "claims per claimant" in result.output


@pytest.mark.parametrize("args, message", [
    pytest.param(["query", "no-such-query"], "No stored query named 'no-such-query'", id="unknown-query"),
    pytest.param(["query", "reporting-chain"], "needs at least one of: claim, text", id="missing-parameter"),
    pytest.param(["query", "positions", "--param", "topic"], "KEY=VALUE", id="malformed-param"),
    pytest.param(["query", "claims-by-actor", "-p", "actor=} DROP ALL {"], "must be an IRI", id="hostile-iri"),
])
def test_usage_errors_are_clear_and_exit_2(args, message, store_path):
    result = kg(*args, "--store", store_path)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_missing_store_is_explained(tmp_path):
    result = kg("query", "overview", "--store", tmp_path / "nowhere")
    assert result.exit_code == 2 and "There is no store at" in result.output and "kg load" in result.output


def test_readers_read_while_another_process_writes_and_writers_wait(store_path, monkeypatch):
    """A notebook or a running load holds the store's lock: kg query still answers; kg load waits, then explains."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import pyoxigraph, sys; s = pyoxigraph.Store({str(store_path)!r}); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        read = kg("query", "compare-periods", "--format", "csv", "--store", store_path)
        assert read.exit_code == 0, read.output
        assert "153" in read.output
        monkeypatch.setenv("KG_LOCK_WAIT", "1")
        write = kg("load", "--store", store_path)
        assert write.exit_code == 2
        assert "in use by another process that is writing to it (waited 1 s)" in write.output
        assert "reading commands (kg query, kg stats…) work meanwhile" in write.output
    finally:
        holder.communicate("", timeout=30)


def test_loading_a_second_source_adds_its_own_graph(tmp_path):
    path = tmp_path / "s"
    kg("load", "--store", path)
    result = kg("load", FIXTURES / "conflicting-source.ttl", "--store", path)
    assert result.exit_code == 0, result.output
    assert "fixture-conflicting-monitor" in result.output
    disagreements = kg("query", "disagreements", "--format", "csv", "--store", path).output
    assert "160" in disagreements and "153" in disagreements


def test_an_unchanged_corpus_is_not_read_twice_but_a_changed_one_is_checked(tmp_path):
    import shutil

    from kg.model.resources import ontology_path
    from kg.stores.oxigraph import FactStore

    store, facts = tmp_path / "s", tmp_path / "facts"
    shutil.copytree(facts_dir(), facts)
    first = kg("load", ontology_path(), facts, "--store", store)
    assert "validation conforms" in first.output
    again = kg("load", ontology_path(), facts, "--store", store)
    assert again.exit_code == 0, again.output
    assert "unchanged: 3 files the store holds as they are (same SHA-256), not read again" in again.output
    assert "0 triples written in 0 graphs; nothing changed since the store last validated" in again.output
    with FactStore(store) as opened:
        assert sum(opened.graphs().values()) == 2516
    text = (facts / "newsweek-isis-attacks-2024.ttl").read_text()
    (facts / "newsweek-isis-attacks-2024.ttl").write_text(text.replace("kg:value 153 ;", "kg:value -153 ;"))
    result = kg("load", ontology_path(), facts, "--store", store)
    assert result.exit_code == 1 and "non-negative" in result.output
    (facts / "newsweek-isis-attacks-2024.ttl").write_text(text.replace("kg:value 153 ;", "kg:value 154 ;"))
    corrected = kg("load", ontology_path(), facts, "--store", store)
    assert corrected.exit_code == 0, corrected.output
    assert "replaced   1468 triples into <https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024>" in corrected.output
    assert "(its earlier version kept: kg history)" in corrected.output
    assert "the changed files checked against what they touch in the store: validation conforms" in corrected.output


@pytest.mark.parametrize("command", ["load", "validate", "add"])
def test_a_missing_file_is_explained_and_the_store_left_as_it_was(tmp_path, command):
    store = tmp_path / "store"
    assert kg("load", "--store", store).exit_code == 0
    before = kg("stats", "--store", store).output
    result = kg(command, tmp_path / "no-such-file.ttl", *(["--store", store] if command != "validate" else []))
    assert result.exit_code == 2, result.output
    assert "no-such-file.ttl" in result.output and "Traceback" not in result.output
    assert kg("stats", "--store", store).output == before


def test_validate_takes_files_or_a_store_not_both(tmp_path):
    store = tmp_path / "store"
    assert kg("load", "--store", store).exit_code == 0
    result = kg("validate", FIXTURES / "conflicting-source.ttl", "--store", store)
    assert result.exit_code == 2 and "not both" in result.output and "kg add" in result.output


@pytest.mark.parametrize("param, suggestion", [
    pytest.param("period_a=period:2024-H1", "Did you mean period:2024-h1", id="period-in-capitals"),
    pytest.param("measure=measure:no-such-measure", "`kg terms measure` lists them", id="unknown-measure"),
])
def test_an_unknown_term_in_a_parameter_is_named_with_the_closest_ones(store_path, param, suggestion):
    result = kg("query", "compare-periods", "-p", param, "--store", store_path)
    assert result.exit_code == 2 and "is not in the store" in result.output and suggestion in result.output


def test_terms_lists_what_parameters_can_name_with_labels(store_path):
    result = kg("terms", "measure", "--store", store_path)
    assert result.exit_code == 0
    assert "measure:attacks-claimed" in result.output and "attacks the subject actor claimed responsibility for" in result.output
    everything = kg("terms", "--store", store_path).output
    assert "actor:centcom" in everything and "source:newsweek-isis-attacks-2024" in everything
    assert kg("terms", "no-such-kind", "--store", store_path).exit_code == 2


def test_summary_gives_the_headline_answers_each_with_its_claimant_and_query(store_path):
    result = kg("summary", "--store", store_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("153 in first half of 2024 vs 121 in 2023" in line and "= 2.536" in line
               and "US Central Command (CENTCOM)" in line and "[compare-periods]" in line for line in lines)
    assert any("196 = 137 (Iraq) + 59 (Syria), consistent" in line for line in lines)
    assert any("Iraq 69.9 %, Syria 30.1 % of 196" in line for line in lines)
    assert lines[-1].startswith("where sources disagree:")


IMPORTS_AFTER = """
import sys
from kg.cli.commands import main
try:
    main({args!r}, standalone_mode=False)
except SystemExit:
    pass
print(sorted(m for m in ("pyshacl", "matplotlib", "rdflib", "rdflib.plugins.sparql", "rich") if m in sys.modules))
"""


@pytest.mark.parametrize("args, absent", [
    pytest.param(["--help"], {"pyshacl", "matplotlib", "rdflib", "rich"}, id="help"),
    pytest.param(["query", "compare-periods", "--format", "csv"], {"pyshacl", "matplotlib", "rdflib.plugins.sparql"},
                 id="stored-query"),
])
def test_quick_commands_do_not_import_what_they_never_use(store_path, args, absent):
    """`kg --help` and a stored query start quickly: pySHACL, matplotlib and rdflib's SPARQL engine load only where used."""
    args = [*args, "--store", str(store_path)] if args[0] == "query" else args
    result = subprocess.run([sys.executable, "-c", IMPORTS_AFTER.format(args=args)], capture_output=True, text=True,
                            check=True)
    imported = set(eval(result.stdout.strip().splitlines()[-1]))
    assert not imported & absent, f"{' '.join(args)} imported {sorted(imported & absent)}"


def test_the_format_choices_are_the_librarys():
    from kg.cli.commands import EXPORT_FORMAT_NAMES, RESULT_FORMATS
    from kg.queries.formats import ResultFormat
    from kg.stores.base import EXPORT_FORMATS

    assert list(RESULT_FORMATS) == [f.value for f in ResultFormat]
    assert list(EXPORT_FORMAT_NAMES) == list(EXPORT_FORMATS)


def test_kg_load_without_paths_loads_the_project_the_current_folder_is_in(tmp_path, monkeypatch):
    """The project's own facts/ (where kg new-source writes), found walking up; not the copies kg ships."""
    import shutil

    from kg.model.resources import ontology_path

    (tmp_path / "ontology").mkdir()
    shutil.copy(ontology_path(), tmp_path / "ontology" / "kg.ttl")
    (tmp_path / "facts").mkdir()
    shutil.copy(facts_dir() / "reference.ttl", tmp_path / "facts" / "reference.ttl")
    (tmp_path / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "deep")
    monkeypatch.delenv("KG_STORE", raising=False)
    result = kg("load")
    assert result.exit_code == 0, result.output
    assert "from ../facts/reference.ttl" in result.output or str(tmp_path / "facts" / "reference.ttl") in result.output
    assert "newsweek" not in result.output and "in 2 graphs" in result.output
    assert (tmp_path / ".kg" / "store").is_dir()
