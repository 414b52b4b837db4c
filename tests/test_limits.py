"""Bounded work and hostile input: every command stops with one paragraph and exit 2, never a
traceback, never unbounded reading, never an unasked-for request to another host."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.queries.catalogue import check_query_text

from conftest import FIXTURES

KG = [sys.executable, "-m", "kg.cli.commands"]
CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n"


def kg(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_a_query_past_its_time_limit_stops_with_a_message_and_releases_the_store(tmp_path, store_path):
    query = tmp_path / "cartesian.rq"
    query.write_text(CARTESIAN_COUNT)
    started = time.monotonic()
    result = subprocess.run([*KG, "query", "--file", str(query), "--store", str(store_path), "--timeout", "1"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "did not finish within 1 s" in result.stderr and "--timeout" in result.stderr
    assert "Traceback" not in result.stderr and "RuntimeError" not in result.stderr
    assert time.monotonic() - started < 15
    assert kg("stats", "--store", store_path).exit_code == 0  # the store is free again


def test_a_query_past_its_row_limit_stops_with_a_message(tmp_path, store_path):
    query = tmp_path / "product.rq"
    query.write_text("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }\n")
    result = kg("query", "--file", query, "--store", store_path, "--max-rows", "1000")
    assert result.exit_code == 2
    assert "more than 1,000 rows" in result.output and "--max-rows" in result.output
    fits = kg("query", "overview", "--store", store_path, "--max-rows", "1000")
    assert fits.exit_code == 0


def test_a_query_nested_thousands_deep_is_refused_before_any_parser_sees_it(tmp_path, store_path):
    query = tmp_path / "deep.rq"
    query.write_text("SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000)
    result = kg("query", "--file", query, "--store", store_path)
    assert result.exit_code == 2 and "nested 3000 brackets deep" in result.output
    brackets_in_strings = tmp_path / "strings.rq"
    brackets_in_strings.write_text('SELECT ?x WHERE { BIND ("' + "{" * 500 + '" AS ?x) } # ' + "(" * 500)
    assert kg("query", "--file", brackets_in_strings, "--store", store_path).exit_code == 0


SERVICE_QUERIES = [
    pytest.param("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "127.0.0.1:9", id="iri"),
    pytest.param("PREFIX r: <http://remote.example/> SELECT * WHERE { SERVICE SILENT r:sparql { ?s ?p ?o } }",
                 "remote.example", id="silent-prefixed-name"),
    pytest.param("select * where { service ?where { ?s ?p ?o } }", "variable", id="variable-lower-case"),
]


@pytest.mark.parametrize("sparql, named", SERVICE_QUERIES)
def test_federated_queries_are_off_unless_the_host_is_allowed(tmp_path, store_path, sparql, named):
    query = tmp_path / "federated.rq"
    query.write_text(sparql)
    for where in (["--store", store_path], ["--engine", "rdflib"]):  # rdflib reads the project's files, not a store
        result = kg("query", "--file", query, *where)
        assert result.exit_code == 2, result.output
        assert "SERVICE" in result.output and named in result.output


def test_the_rdflib_engine_refuses_a_store_it_would_not_read(store_path):
    result = kg("query", "compare-periods", "--engine", "rdflib", "--store", store_path)
    assert result.exit_code == 2 and "--engine rdflib runs over the project's files" in result.output


def test_an_allowed_service_host_passes_and_others_do_not():
    sparql = "SELECT * WHERE { SERVICE <http://127.0.0.1:7878/query> { ?s ?p ?o } }"
    check_query_text(sparql, allow_service=["127.0.0.1:7878"])
    check_query_text(sparql, allow_service=["127.0.0.1"])
    check_query_text('SELECT * WHERE { ?s ?p "SERVICE <http://x.example/>" }  # SERVICE <http://y.example/>')
    with pytest.raises(Exception, match="127.0.0.1:7878"):
        check_query_text(sparql, allow_service=["127.0.0.2"])


LONG_ID = "a" * 300

HOSTILE = [
    pytest.param(["add", "/dev/zero"], "not a regular file", id="add-dev-zero"),
    pytest.param(["load", "/dev/zero"], "not a regular file", id="load-dev-zero"),
    pytest.param(["validate", "/dev/zero"], "not a regular file", id="validate-dev-zero"),
    pytest.param(["query", "--file", "/dev/zero"], "above kg's limit", id="query-file-dev-zero"),
    pytest.param(["coverage", "--source-text", "/dev/zero", FIXTURES / "fictional-monitor-2024.ttl"], "above kg's limit",
                 id="coverage-source-text-dev-zero"),
    pytest.param(["verify-quotes", "--source-text", "/dev/zero", FIXTURES / "fictional-monitor-2024.ttl"],
                 "above kg's limit", id="verify-quotes-source-text-dev-zero"),
    pytest.param(["new-source", "--id", LONG_ID, "--title", "t", "--publisher", "p"], "not a source id", id="id-300-chars"),
    pytest.param(["new-source", "--id", "../../etc/passwd", "--title", "t", "--publisher", "p"], "not a source id",
                 id="id-with-a-path"),
    pytest.param(["new-source", "--id", "ok", "--title", "t", "--publisher", "p", "--source-text", "/dev/zero"],
                 "above kg's limit", id="new-source-text-dev-zero"),
    pytest.param(["add", "/" + "x" * 300 + ".ttl"], "ame too long", id="add-name-too-long"),
    pytest.param(["query", "overview", "--endpoint", "ftp://example.org/sparql"], "http(s) URL", id="endpoint-not-http"),
    pytest.param(["query", "overview", "-p", "x=1"], "", id="unknown-parameter"),
    pytest.param(["query", "no-such-query"], "No stored query", id="unknown-query"),
    pytest.param(["export", "-o", "/proc/version"], "", id="export-onto-proc"),
    pytest.param(["report", "--out", "/proc/kg-report.html"], "", id="report-where-nothing-can-be-written"),
    pytest.param(["graph", "--claim", "<>\"{}", "--out", "/tmp/kg-hostile.svg"], "", id="graph-hostile-claim"),
    pytest.param(["load", "--store", "/proc/kg-store"], "", id="store-under-proc"),
]


@pytest.mark.parametrize("args, message", HOSTILE)
def test_hostile_arguments_get_one_paragraph_and_exit_2(tmp_path, store_path, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "--store" not in args and args[0] not in ("new-source", "coverage", "verify-quotes", "validate"):
        args = [*args, "--store", store_path] if "--endpoint" not in args else args
    result = kg(*args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert message in result.output


def test_a_non_utf8_query_file_is_explained(tmp_path, store_path):
    query = tmp_path / "latin1.rq"
    query.write_bytes("SELECT * WHERE { ?s ?p \"caf\xe9\" }".encode("latin-1"))
    result = kg("query", "--file", query, "--store", store_path)
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_a_50_mb_literal_in_a_load_is_explained(tmp_path, store_path):
    big = tmp_path / "big.ttl"
    with big.open("w") as out:
        out.write((FIXTURES / "fictional-monitor-2024.ttl").read_text())
        out.write('\nsource:fictional-monitor-2024 rdfs:comment """')
        for _ in range(50):
            out.write("x" * (1 << 20))
        out.write('""" .\n')
    result = kg("load", big, "--store", tmp_path / "s")
    assert result.exit_code == 2, result.output
    assert "above kg's limit of 16 MB" in result.output and "Traceback" not in result.output


def test_a_closed_pipe_ends_quietly(store_path):
    """`kg query … | head -1`: the reader goes away; kg stops with status 0 and no error."""
    pipeline = subprocess.run(
        f"{sys.executable} -m kg.cli query evidence --store {store_path} --format csv | head -1",
        shell=True, capture_output=True, text=True, timeout=60, executable="/bin/bash",
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""}, )
    assert pipeline.stdout.startswith("claim,")
    assert "Error" not in pipeline.stderr and "Traceback" not in pipeline.stderr
    status = subprocess.run(
        f"set -o pipefail; {sys.executable} -m kg.cli query evidence --store {store_path} --format csv | head -c 10",
        shell=True, capture_output=True, text=True, timeout=60, executable="/bin/bash")
    assert status.returncode == 0, status.stderr


@pytest.mark.parametrize("command", sorted(main.commands))
@pytest.mark.parametrize("hostile", [
    pytest.param(["/dev/zero"], id="a-device"),
    pytest.param(["x" * 300], id="a-300-character-argument"),
    pytest.param(["--no-such-option"], id="an-unknown-option"),
    pytest.param(["\u202eevil\u200b"], id="bidi-and-zero-width"),
])
def test_every_command_meets_hostile_arguments_without_a_traceback(tmp_path, store_path, monkeypatch, command, hostile):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KG_STORE", str(store_path))
    result = kg(command, *hostile)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
