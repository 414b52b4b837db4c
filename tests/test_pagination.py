"""Long answers in pages: --limit rows after --offset, pages that add up to the whole answer."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.queries.catalogue import load_catalogue, run_query
from kg.queries.sparqltext import page

PARAMS = {"reporting-chain": {"text": "attacks"}}


# Every stored query on the embedded store; on rdflib (initBindings, its own paging) a listing and two with parameters.
CASES = [pytest.param(name, "oxigraph", id=f"{name}-oxigraph") for name in sorted(load_catalogue())] + [
    pytest.param(name, "rdflib", id=f"{name}-rdflib") for name in ("evidence", "compare-periods", "reporting-chain")]


@pytest.mark.parametrize("name, engine", CASES)
def test_pages_of_every_stored_query_add_up_to_its_whole_answer(name, engine, loaded_store, rdflib_engine):
    runs = {"oxigraph": {"store": loaded_store}, "rdflib": {"engine": rdflib_engine}}[engine]
    whole = run_query(name, params=PARAMS.get(name), **runs).terms
    size = 3
    pages = [run_query(name, params=PARAMS.get(name), limit=size, offset=start, **runs).terms
             for start in range(0, len(whole) + size, size)]
    assert all(len(p) == size for p in pages[: len(whole) // size])
    assert [row for p in pages for row in p] == whole


@pytest.mark.parametrize("sparql, limit, offset, expected", [
    pytest.param("SELECT * { ?s ?p ?o }", 5, 0, "SELECT * { ?s ?p ?o } LIMIT 5\n", id="no-modifiers"),
    pytest.param("SELECT * { ?s ?p ?o } ORDER BY ?s\n# LIMIT 3 in a comment\n", 5, 2,
                 "SELECT * { ?s ?p ?o } ORDER BY ?s\n# LIMIT 3 in a comment LIMIT 5 OFFSET 2\n", id="comment-kept"),
    pytest.param("SELECT * { ?s ?p ?o } LIMIT 10", 5, 8, "SELECT * { ?s ?p ?o } LIMIT 2 OFFSET 8\n",
                 id="never-past-the-query's-own-limit"),
    pytest.param("SELECT * { ?s ?p ?o } OFFSET 4 LIMIT 10", None, 3, "SELECT * { ?s ?p ?o } LIMIT 7 OFFSET 7\n",
                 id="offsets-add-up"),
    pytest.param("SELECT * { ?s ?p ?o } ORDER BY ?o VALUES ?s { <urn:a> }", 1, 1,
                 "SELECT * { ?s ?p ?o } ORDER BY ?o LIMIT 1 OFFSET 1\nVALUES ?s { <urn:a> }", id="before-values"),
    pytest.param("SELECT * { { SELECT ?s { ?s ?p ?o } LIMIT 2 } }", 1, 0,
                 "SELECT * { { SELECT ?s { ?s ?p ?o } LIMIT 2 } } LIMIT 1\n", id="subquery-limit-is-not-the-query's"),
    pytest.param("SELECT * { ?s ?p ?o }", None, 0, "SELECT * { ?s ?p ?o }", id="no-page-no-change"),
])
def test_page_cuts_the_outer_answer_only(sparql, limit, offset, expected):
    assert page(sparql, limit=limit, offset=offset) == expected


def test_a_page_runs_with_the_same_answer_on_both_engines(loaded_store, rdflib_engine):
    sparql = page("SELECT DISTINCT ?s { ?s a ?type FILTER isIRI(?s) } ORDER BY ?s LIMIT 12", limit=5, offset=9)
    assert len(loaded_store.engine.select(sparql).rows) == 3
    assert loaded_store.engine.select(sparql).rows == rdflib_engine.select(sparql).rows


def kg(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_kg_query_gives_a_page_and_says_on_stderr_how_to_get_the_next(store_path):
    whole = list(csv.reader(io.StringIO(kg("query", "evidence", "--format", "csv", "--store", store_path).stdout)))
    assert len(whole) > 30
    first = kg("query", "evidence", "--format", "csv", "--limit", 10, "--store", store_path)
    second = kg("query", "evidence", "--format", "csv", "--limit", 10, "--offset", 10, "--store", store_path)
    assert first.exit_code == second.exit_code == 0
    rows = lambda result: list(csv.reader(io.StringIO(result.stdout)))
    assert rows(first) == whole[:11]  # the header, then rows 1-10: the csv stays valid
    assert rows(second) == [whole[0], *whole[11:21]]
    assert "more follow: add --offset 20 for the next page" in second.stderr
    last = kg("query", "evidence", "--format", "csv", "--limit", 10, "--offset", len(whole) - 3, "--store", store_path)
    assert rows(last) == [whole[0], *whole[-2:]] and "more follow" not in last.stderr


def test_a_table_shows_a_default_page_and_limit_0_shows_all(store_path, monkeypatch):
    import kg.cli.commands as commands

    monkeypatch.setattr(commands, "TABLE_PAGE", 5)
    paged = kg("query", "evidence", "--store", store_path)
    assert paged.exit_code == 0
    assert "Rows 1–5 shown; more follow: add --offset 5" in paged.stderr
    assert paged.stdout.count("│ claim ") == 5
    everything = kg("query", "evidence", "--limit", 0, "--store", store_path)
    assert "more follow" not in everything.stderr and everything.stdout.count("│ claim ") > 30
