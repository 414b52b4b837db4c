"""Answers kept with the store (kg.queries.kept, kg.services.keeping): every page equals the query's own answer
after every kind of write, kept answers are brought up to date for what changed only, and a kept answer that
no longer holds the store is never read.

The sources are the project's facts and the fictional multi-source fixtures (tests/fixtures/multi, labelled
fictional)."""

from __future__ import annotations

import sqlite3

import pyoxigraph as ox
import pytest
from rdflib import XSD, BNode, Literal, URIRef

from kg import FactStore
from kg.model.errors import BadInputError
from kg.model.resources import default_load_paths
from kg.queries.catalogue import StoredQuery, load_catalogue, run_query
from kg.queries.engines import OxigraphEngine, term_cell
from kg.queries.kept import Unordered, check_order, sort_key, term_order
from kg.services import keeping
from kg.services.add import add_files
from kg.services.lifecycle import remove_sources, retract, unretract
from kg.services.load import load

from conftest import MULTI, MULTI_FILES

#: Every fictional file but the wire's, which a test adds (without it, disagreements still has pairs).
HELD = [path for path in MULTI_FILES if path.stem != "fictional-wire-2024"]
KEPT = [name for name, query in load_catalogue().items() if query.kept is not None]
NOW = "2026-11-26T12:00:00+00:00"


def test_the_store_wide_listings_are_kept():
    assert set(KEPT) == {"corroboration", "disagreements", "figures-by-place", "overview", "positions", "retracted", "sources",
                         "totals-vs-parts"}


def _as_written(store: FactStore, name: str, **params) -> list:
    """The query's answer from the engine itself, never from kept answers."""
    return run_query(name, engine=OxigraphEngine(store.oxigraph), params=params or None).terms


def _served_from_kept(store: FactStore, name: str) -> bool:
    return store.engine.kept.page(name, load_catalogue()[name].kept_digest(), limit=1) is not None


def _check_pages(store: FactStore, *, unordered: tuple[str, ...] = ()) -> None:
    """Every page of each kept answer equals the query's own; ``unordered``: answers kg may not keep (a column
    of texts in two languages), which then run as written."""
    for name in KEPT:
        whole = _as_written(store, name)
        assert _served_from_kept(store, name) or name in unordered, name
        assert run_query(name, store=store).terms == whole, name
        for limit, offset in ((1, 0), (3, 2), (5, len(whole) - 2), (4, len(whole) + 3)):
            assert run_query(name, store=store, limit=limit, offset=offset).terms == whole[offset:offset + limit], \
                (name, limit, offset)


@pytest.fixture()
def store(tmp_path):
    with FactStore(tmp_path / "store") as store:
        report = load(store, [*default_load_paths(), *HELD])
        assert report.conforms
        yield store


def test_a_first_load_keeps_every_answer_and_pages_equal_the_query(store):
    assert store.engine.kept.kept_generation() == store.generation()
    assert all(_as_written(store, name) for name in ("corroboration", "disagreements", "positions"))
    _check_pages(store)


def test_each_write_brings_the_kept_answers_up_to_date_for_what_it_changed(store, tmp_path, monkeypatch):
    rebuilt = []
    monkeypatch.setattr(keeping, "rebuild", lambda *args, **kwargs: rebuilt.append(args))
    last = next(path for path in MULTI_FILES if path not in HELD)
    add_files(store, [last])
    _check_pages(store)
    # A changed figure, loaded again: its old partition and its new one both change.
    changed = tmp_path / last.name
    text = last.read_text(encoding="utf-8")
    value = next(line for line in text.splitlines() if "kg:value " in line)
    changed.write_text(text.replace(value, value.replace("kg:value ", "kg:value 1", 1), 1), encoding="utf-8")
    before = run_query("corroboration", store=store).terms
    assert load(store, [*default_load_paths(), *HELD, changed]).replaced
    assert run_query("corroboration", store=store).terms != before
    _check_pages(store)
    claim = str(store.select("SELECT ?c WHERE { ?c <https://w3id.org/conflict-kg/ontology#value> ?v } "
                             "ORDER BY ?c LIMIT 1").rows[0][0])
    retract(store, [claim], reason="a test", now=NOW)
    _check_pages(store)
    # A part of a total (stated with kg:partFigureOf) retracted alone: its total's rows change.
    before = run_query("totals-vs-parts", store=store).terms
    retract(store, ["fictional-gazette-2024/missions-2024-h1-westmarch"], reason="a test", now=NOW)
    assert run_query("totals-vs-parts", store=store).terms != before
    _check_pages(store)
    retract(store, ["fictional-gazette-2024"], reason="a test", now=NOW)
    _check_pages(store)
    unretract(store, [claim])
    _check_pages(store)
    remove_sources(store, ["fictional-tribune-2024"], force=True)
    _check_pages(store)
    assert rebuilt == []  # every change above was followed partition by partition


def test_a_change_to_the_reference_data_recomputes_every_kept_answer(store, tmp_path, monkeypatch):
    calls = []
    real = keeping.rebuild
    monkeypatch.setattr(keeping, "rebuild", lambda *args, **kwargs: (calls.append(1), real(*args, **kwargs))[1])
    # A place renamed in the reference data changes rows of every source that names the place.
    reference = tmp_path / "fictional-reference.ttl"
    text = (MULTI / "fictional-reference.ttl").read_text(encoding="utf-8")
    old, new = '"Eastmarch and Westmarch (fictional)"@en', '"the Marches (fictional)"@en'
    reference.write_text(text.replace(old, new), encoding="utf-8")
    load(store, [*default_load_paths(), reference, *HELD[1:]])
    assert calls
    assert "the Marches (fictional)" in {str(row[2]) for row in run_query("corroboration", store=store).terms}
    _check_pages(store)


def test_a_source_that_describes_what_others_use_recomputes_every_kept_answer(store, tmp_path, monkeypatch):
    calls = []
    real = keeping.rebuild
    monkeypatch.setattr(keeping, "rebuild", lambda *args, **kwargs: (calls.append(1), real(*args, **kwargs))[1])
    # The wire's file gives the shared region a second name: every source's figures about it get a row for that
    # name too, not only the wire's.
    wire = next(path for path in MULTI_FILES if path not in HELD)
    changed = tmp_path / wire.name
    changed.write_text(wire.read_text(encoding="utf-8") + "\n<https://w3id.org/conflict-kg/id/place/eastmarch-and-westmarch> "
                       '<http://www.w3.org/2000/01/rdf-schema#label> "the Marches (fictional)"@en .\n', encoding="utf-8")
    load(store, [*default_load_paths(), *HELD, changed])
    assert calls
    places = [str(row[2]) for row in run_query("corroboration", store=store).terms]
    assert places.count("the Marches (fictional)") > 1
    _check_pages(store)


def test_a_query_kept_since_is_computed_whole_at_the_next_load(tmp_path, monkeypatch):
    every = keeping.kept_queries()
    with FactStore(tmp_path / "store") as store:
        monkeypatch.setattr(keeping, "kept_queries", lambda: [q for q in every if q.name != "positions"])
        load(store, [*default_load_paths(), *MULTI_FILES])
        assert not _served_from_kept(store, "positions") and _served_from_kept(store, "overview")
        monkeypatch.setattr(keeping, "kept_queries", lambda: every)  # a kg with one more kept query
        assert not load(store, [*default_load_paths(), *MULTI_FILES]).graphs
        _check_pages(store)


def test_an_answer_kg_cannot_order_is_not_kept_nor_recomputed_at_each_write(store, tmp_path, monkeypatch):
    wire = next(path for path in MULTI_FILES if path not in HELD)
    changed = tmp_path / wire.name
    changed.write_text(wire.read_text(encoding="utf-8") + "\n<https://w3id.org/conflict-kg/id/place/eastmarch-and-westmarch> "
                       '<http://www.w3.org/2000/01/rdf-schema#label> "les Marches (fictives)"@fr .\n', encoding="utf-8")
    load(store, [*default_load_paths(), *HELD, changed])
    # Place names in English and French in one column: an order kg does not reproduce.
    assert not _served_from_kept(store, "corroboration")
    computed = []
    real = keeping._whole
    monkeypatch.setattr(keeping, "_whole", lambda store, queries: (computed.extend(q.name for q in queries),
                                                                     real(store, queries))[1])
    retract(store, ["fictional-gazette-2024"], reason="a test", now=NOW)
    assert "corroboration" not in computed
    _check_pages(store, unordered=("corroboration", "disagreements"))


def test_a_write_kg_did_not_follow_is_never_answered_from_the_kept_answers(store):
    claim = str(store.select("SELECT ?c WHERE { ?c <https://w3id.org/conflict-kg/ontology#value> ?v } "
                             "ORDER BY ?c LIMIT 1").rows[0][0])
    # Straight through the store, around kg's services: the kept answers do not know of it.
    store.update(f"DELETE WHERE {{ GRAPH ?g {{ <{claim}> <https://w3id.org/conflict-kg/ontology#value> ?v }} }}")
    for name in KEPT:
        assert not _served_from_kept(store, name)
        assert run_query(name, store=store).terms == _as_written(store, name)
    # The next write through kg computes them whole again.
    retract(store, ["fictional-gazette-2024"], reason="a test", now=NOW)
    _check_pages(store)


def test_an_unchanged_reload_makes_kept_answers_that_are_missing(tmp_path):
    with FactStore(tmp_path / "store") as store:
        load(store, [*default_load_paths(), *MULTI_FILES])
        generation = store.generation()
    (tmp_path / "store-answers.sqlite").unlink()  # a store from before kg kept answers
    with FactStore(tmp_path / "store") as store:
        assert not _served_from_kept(store, "corroboration")
        report = load(store, [*default_load_paths(), *MULTI_FILES])
        assert not report.graphs and store.generation() == generation
        _check_pages(store)


def test_a_reader_uses_the_kept_answers_and_a_damaged_file_is_ignored(tmp_path):
    with FactStore(tmp_path / "store") as writer:
        load(writer, [*default_load_paths(), *MULTI_FILES])
        expected = {name: _as_written(writer, name) for name in KEPT}
    with FactStore(tmp_path / "store", read_only=True) as reader:
        for name in KEPT:
            assert _served_from_kept(reader, name)
            assert run_query(name, store=reader).terms == expected[name]
    with sqlite3.connect(tmp_path / "store-answers.sqlite") as db:  # rows kg did not write
        db.execute("UPDATE rows SET row = '[[\"i\"'")
    with FactStore(tmp_path / "store", read_only=True) as reader:
        for name in KEPT:
            assert not _served_from_kept(reader, name) or not expected[name]  # (an empty answer has no rows to read)
            assert run_query(name, store=reader).terms == expected[name]
    (tmp_path / "store-answers.sqlite").write_bytes(b"not a database" * 100)
    with FactStore(tmp_path / "store", read_only=True) as reader:
        for name in KEPT:
            assert not _served_from_kept(reader, name)
            assert run_query(name, store=reader).terms == expected[name]


def test_other_parameters_run_the_query_as_written(store):
    positions = load_catalogue()["positions"]
    topic = positions.param("topic").default
    assert run_query("positions", store=store, params={"include_retracted": "yes"}).terms == \
        _as_written(store, "positions", include_retracted="yes")
    assert run_query("positions", store=store, params={"topic": topic}).terms == _as_written(store, "positions")


def test_a_store_in_memory_keeps_nothing():
    store = FactStore.in_memory()
    load(store)
    assert store.engine.kept is None
    assert run_query("corroboration", store=store).terms


# --- the order of kept rows is Oxigraph's ---------------------------------------------------------

TERMS = [None, BNode("b1"), URIRef("urn:a"), URIRef("urn:ab"), URIRef("urn:b"), Literal(-2.5, datatype=XSD.double),
         Literal(-1), Literal(0), Literal("0.5", datatype=XSD.decimal), Literal(2), Literal(10), Literal(1e20),
         Literal(""), Literal("A"), Literal("a"), Literal("a\u00e9"), Literal("ab"), Literal("b"), Literal("\U0001f600")]
DATES = [Literal(text, datatype=XSD.date) for text in ("2024-01-31", "2023-12-01", "2024-01-04", "1999-06-30")]
DATE_TIMES = [Literal(text, datatype=XSD.dateTime) for text in
              ("2024-01-31T10:00:00", "2024-01-31T10:00:00.5", "2024-01-31T09:59:59.25", "2023-05-01T00:00:00")]


@pytest.mark.parametrize("descending", [pytest.param(False, id="asc"), pytest.param(True, id="desc")])
def test_sort_keys_order_as_oxigraph_orders(descending):
    store = ox.Store()
    rows = [term for term in TERMS if term is not None]
    from kg.queries.engines import term_to_oxigraph

    texts = [t for t in rows if isinstance(t, Literal) and t.datatype is None]
    numbers = [t for t in rows if isinstance(t, Literal) and t.datatype is not None]
    for group in (texts, numbers, [t for t in rows if isinstance(t, URIRef)], DATES, DATE_TIMES):
        values = " ".join(f"({term_to_oxigraph(t)})" for t in group) + " (UNDEF)"
        answer = store.query(f"SELECT ?v WHERE {{ VALUES (?v) {{ {values} }} }} ORDER BY {'DESC' if descending else 'ASC'}(?v)")
        from kg.queries.engines import term_from_oxigraph

        oxigraph_order = [term_from_oxigraph(s["v"]) for s in answer]
        ours = sorted([*group, None], key=lambda t: sort_key((term_cell(t),), [(0, descending)]))
        assert ours == oxigraph_order


@pytest.mark.parametrize("rows", [
    pytest.param([(Literal(1),), (Literal("a"),)], id="numbers-beside-texts"),
    pytest.param([(Literal("a", lang="en"),), (Literal("a", lang="fr"),)], id="two-languages"),
    pytest.param([(Literal("a", lang="en"),), (Literal("b"),)], id="plain-beside-tagged"),
    pytest.param([(Literal("2024-01-01+02:00", datatype=XSD.date, normalize=False),)], id="a-date-with-a-time-zone"),
    pytest.param([(Literal("2024-01-01", datatype=XSD.date),), (Literal("2024-01-01T00:00:00", datatype=XSD.dateTime),)],
                 id="dates-beside-date-times"),
    pytest.param([(Literal("2024-01-01", datatype=XSD.date),), (Literal("x"),)], id="dates-beside-texts"),
    pytest.param([(Literal(True),)], id="booleans"),
])
def test_columns_kg_cannot_order_are_not_kept(rows):
    with pytest.raises(Unordered):
        check_order([tuple(term_cell(t) for t in row) for row in rows], [(0, False)])


def test_texts_of_one_language_and_iris_can_be_kept():
    check_order([(term_cell(URIRef("urn:a")),), (term_cell(Literal("a", lang="en")),), (term_cell(Literal("b", lang="en")),),
                 (None,)], [(0, True)])
    assert term_order(term_cell(Literal("x", lang="en")))[2] == "en"


# --- the header ----------------------------------------------------------------------------------

BASE_QUERY = """PREFIX ex: <urn:ex:>
SELECT ?label ?n WHERE { ?claim ex:label ?label ; ex:n ?n } ORDER BY ?label DESC(?n)"""


@pytest.mark.parametrize("header, message", [
    pytest.param('#+ kept: {partitions: "SELECT ?other WHERE { ?claim ex:x ?other }", members: "SELECT ?claim WHERE {}"}',
                 "columns of the answer", id="partition-not-a-column"),
    pytest.param('#+ kept: {partitions: "SELECT ?label WHERE { ?claim ex:label ?label }", members: "SELECT ?x WHERE {}"}',
                 "members", id="members-not-bound-by-the-query"),
    pytest.param('#+ kept: {partitions: "SELECT ?label WHERE { ?claim ex:label ?label }"}', "members", id="no-members"),
    pytest.param('#+ kept: [1, 2]', "partitions", id="not-a-mapping"),
])
def test_a_kept_header_that_cannot_work_is_refused(header, message):
    with pytest.raises(BadInputError, match=message):
        StoredQuery.from_text(header + "\n" + BASE_QUERY, name="q")


def test_a_kept_query_must_be_ordered_by_its_columns():
    header = ('#+ kept: {partitions: "SELECT ?label WHERE { ?claim ex:label ?label }", '
              'members: "SELECT ?claim WHERE { ?claim ex:label ?label }"}')
    assert StoredQuery.from_text(header + "\n" + BASE_QUERY, name="q").kept is not None
    with pytest.raises(BadInputError, match="ordered by"):
        StoredQuery.from_text(header + "\n" + BASE_QUERY.replace("ORDER BY ?label", "ORDER BY STR(?label)"), name="q")
