"""Pages of long listings read key by key on Oxigraph, and figures looked up by value: the same answers.

A listing with ``#+ page_keys:`` is read range by range (kg.queries.paging); a number parameter with
``#+ lookups:`` is looked up as the terms Oxigraph stores it as. Each must give exactly the rows the
query gives when run whole and as written (the synthetic corpus here is generated, not real reporting).
"""

from __future__ import annotations

import pytest
from rdflib import Dataset, Literal, URIRef

import kg.queries.catalogue as catalogue_module
from kg.authoring.synth import synthesize
from kg.model.errors import BadInputError
from kg.queries.catalogue import StoredQuery, load_catalogue, run_query
from kg.queries.engines import OxigraphEngine, RdflibEngine, SelectResult, term_from_oxigraph
from kg.queries.paging import FIRST_RANGE, keyed_page
from kg.model.resources import default_load_paths
from kg.stores.oxigraph import FactStore

KEYED = sorted(name for name, query in load_catalogue().items() if query.page_keys)
PARAMS = {"reporting-chain": {"text": "attacks"}}
SOURCES = 3 * FIRST_RANGE + 5  # three ranges of keys, the last one short


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory) -> FactStore:
    """The project's facts and a synthetic corpus of SOURCES sources, in memory."""
    folder = tmp_path_factory.mktemp("synth")
    synthesize(sources=SOURCES, seed=11, out=folder)
    store = FactStore.in_memory()
    store.load([*default_load_paths(), *sorted((folder / "facts").glob("*.ttl"))], check=False)
    return store


@pytest.fixture()
def keyed_pages(monkeypatch) -> list:
    """Each keyed read's answer, to show that a page really was read key by key (not the whole answer)."""
    answers = []
    original = catalogue_module.keyed_page

    def recording(*args, **kwargs):
        answers.append(original(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(catalogue_module, "keyed_page", recording)
    return answers


def test_the_listings_that_page_by_key():
    assert KEYED == ["claims-about-actor", "evidence", "reporting-chain", "totals-vs-parts"]


@pytest.mark.parametrize("name", KEYED)
def test_a_page_read_key_by_key_is_the_page_of_the_whole_answer(name, corpus_store, keyed_pages):
    whole = run_query(name, store=corpus_store, params=PARAMS.get(name)).terms
    assert len(whole) > 40  # rows from many keys: pages cross ranges
    for limit in (1, 7, 40):
        for offset in (0, 5, 33, len(whole) - 3, len(whole) + 2):
            got = run_query(name, store=corpus_store, params=PARAMS.get(name), limit=limit, offset=offset).terms
            assert got == whole[offset:offset + limit], (limit, offset)
    assert keyed_pages and all(answer is not None for answer in keyed_pages)


def test_a_parameter_narrows_the_keys_too(corpus_store, keyed_pages):
    """Given an actor with few claims, only the sources of those claims are keys (not every source's range)."""
    query = load_catalogue()["claims-about-actor"]
    keys = corpus_store.engine.select(query.bind_page_keys({"actor": "actor:sdf"})).rows
    all_sources = corpus_store.engine.select(query.bind_page_keys({"actor": "actor:isis"})).rows
    assert 0 < len(keys) < len(all_sources)
    whole = run_query(query, store=corpus_store, params={"actor": "actor:sdf"}).terms
    assert run_query(query, store=corpus_store, params={"actor": "actor:sdf"}, limit=3, offset=1).terms == whole[1:4]


def test_past_many_keys_every_source_is_listed_and_pages_stay_the_same(corpus_store, keyed_pages, monkeypatch):
    """Past MANY_KEYS sources of claims about the actor, kg stops finding them and lists every source instead (a
    superset: ranges without rows are read past); an actor with fewer keeps its own. In the synthetic corpus
    every source speaks of ISIS, five of synth-claimant-028 (most ranges then empty), one of the SDF."""
    monkeypatch.setattr(catalogue_module, "MANY_KEYS", 4)
    query = load_catalogue()["claims-about-actor"]
    every_source = corpus_store.engine.select(query.bind_page_keys(when_many=True)).rows
    for actor in ("actor:isis", "actor:synth-claimant-028", "actor:sdf"):
        found = corpus_store.engine.select(query.bind_page_keys({"actor": actor})).rows
        listed = query.list_page_keys(corpus_store.engine, {"actor": actor}).rows
        assert sorted(listed) == sorted(every_source if len(found) > 4 else found), actor
        whole = run_query(query, store=corpus_store, params={"actor": actor}).terms
        for limit, offset in ((1, 0), (7, 3), (40, 17), (5, len(whole) - 2)):
            assert run_query(query, store=corpus_store, params={"actor": actor}, limit=limit, offset=offset).terms \
                == whole[offset:offset + limit], (actor, limit, offset)
    found = corpus_store.engine.select(query.bind_page_keys({"actor": "actor:synth-claimant-028"})).rows
    assert 4 < len(found) < len(every_source)  # the superset really is larger
    assert keyed_pages and all(answer is not None for answer in keyed_pages)


LABELS = StoredQuery.from_text(
    '#+ page_keys: "SELECT DISTINCT ?label WHERE { ?s <urn:label> ?label }"\n'
    "SELECT ?label ?s WHERE { ?s <urn:label> ?label } ORDER BY ?label ?s")


def _labelled(*labels: str) -> FactStore:
    store = FactStore.in_memory()
    store.oxigraph.update("INSERT DATA { GRAPH <urn:g> { " + " ".join(
        f"<urn:s{index % 7}> <urn:label> {label} ." for index, label in enumerate(labels)) + " } }")
    return store


@pytest.mark.parametrize("labels, keyed", [
    pytest.param(['"Émile"@en', '"b"@en', '"B"@en', '"a b"@en', '"ab"@en', '"a"@en'] * 9, True, id="one-language"),
    pytest.param(['"b"@en', '"a"@fr', '"a"', '"c"@en', '"a"@en'] * 9, False, id="languages-and-plain-mixed"),
    pytest.param(['"2"^^<http://www.w3.org/2001/XMLSchema#integer>', '"10"'] * 9, False, id="numbers"),
])
def test_texts_of_one_language_are_keys_and_of_several_or_numbers_are_not(labels, keyed, keyed_pages):
    """Oxigraph orders texts of one language by their words; across languages kg does not reproduce its
    order, so it reads the answer whole; either way the page is the whole answer's."""
    store = _labelled(*(f'"{index}{label[1:]}' if index % 2 else label for index, label in enumerate(labels)))
    whole = run_query(LABELS, store=store).terms
    assert len(whole) > 15
    for offset in (0, 7, 13):
        assert run_query(LABELS, store=store, limit=5, offset=offset).terms == whole[offset:offset + 5]
    assert all((answer is not None) is keyed for answer in keyed_pages)


def test_rdflib_pages_the_answer_as_written(corpus_store):
    """Other engines get the query with LIMIT/OFFSET: the same page."""
    dataset = Dataset(default_union=True)
    for quad in corpus_store.oxigraph.quads_for_pattern(None, None, None, None):
        dataset.graph(URIRef(quad.graph_name.value)).add(tuple(map(term_from_oxigraph, quad.triple)))
    page = run_query("evidence", engine=RdflibEngine(dataset), limit=6, offset=30).terms
    assert page == run_query("evidence", store=corpus_store, limit=6, offset=30).terms


@pytest.mark.parametrize("header, message", [
    pytest.param('#+ page_keys: "SELECT DISTINCT ?claim WHERE { ?claim ?p ?o }"\n', r"ORDER BY starts with \?source",
                 id="keys-not-the-order's-first-variables"),
    pytest.param('#+ page_keys: "SELECT * WHERE { ?source ?p ?o }"\n', "named variables", id="keys-not-named"),
    pytest.param('#+ page_keys: {keys: "SELECT ?source WHERE { ?source ?p ?o }", when_many: "SELECT ?s WHERE { ?s ?p ?o }"}\n',
                 "same variables", id="when-many-of-other-variables"),
    pytest.param('#+ page_keys: {keys: "SELECT ?source WHERE { ?source ?p ?o }"}\n', "when_many", id="mapping-without-when-many"),
    pytest.param("#+ lookups: {source: s}\n", "number parameters", id="lookup-of-a-non-number"),
])
def test_a_bad_paging_or_lookup_header_is_refused(header, message):
    with pytest.raises(BadInputError, match=message):
        StoredQuery.from_text(header + "SELECT ?source ?claim WHERE { ?claim ?p ?source } ORDER BY ?source ?claim")


def test_a_subquery_restricted_to_variables_that_are_not_keys_is_refused():
    with pytest.raises(BadInputError, match="# kg:page-keys comment names a variable that is not one of the page's keys"):
        StoredQuery.from_text(
            '#+ page_keys: "SELECT DISTINCT ?source WHERE { ?claim <urn:in> ?source }"\n'
            "SELECT ?source ?n WHERE { ?claim <urn:in> ?source {\n SELECT ?claim (COUNT(*) AS ?n) {\n"
            "  # kg:page-keys ?claim\n ?claim ?p ?o } GROUP BY ?claim } } ORDER BY ?source ?n")


def test_keys_a_row_may_lack_are_refused():
    """A row without its key would join every key of the VALUES block: each range would list it once more."""
    with pytest.raises(BadInputError, match="bound by a triple pattern of the query's outer group"):
        StoredQuery.from_text(
            '#+ page_keys: "SELECT DISTINCT ?source WHERE { ?claim <urn:in> ?source }"\n'
            "SELECT ?source ?x WHERE { { ?x <urn:in> ?source } UNION { BIND (1 AS ?x) } } ORDER BY ?source ?x")


# Figures of the first source rewritten as 153 every way a file can write it, and a near miss; who-said given 153
# finds the same claims looked up by value (Oxigraph) as compared one by one (Oxigraph as written, and rdflib).
STORED_AS = {  # claim: (how its value is written, measure, whether it is 153)
    "attacks-2024-h1": ('"153.0"^^xsd:decimal', "attacks-claimed", True),
    "attacks-2023": ('"0153"^^xsd:integer', "attacks-claimed", True),
    "missions-2024-h1": ('"153.000"^^xsd:decimal', "operations-conducted", True),
    "detained-2024-h1": ('"1.53E2"^^xsd:double', "operatives-detained", True),  # refused by the shapes; still found
    "killed-2024-h1": ('"153.5"^^xsd:decimal', "operatives-killed", False),
}


class _AsWritten(OxigraphEngine):
    oxigraph = False  # the query text as written: the value compared with every figure


def test_who_said_finds_a_value_however_it_is_written():
    store = FactStore.in_memory()
    store.load(check=False)
    claim = "https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/"
    for slug, (form, _, _) in STORED_AS.items():
        store.oxigraph.update(
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX kg: <https://w3id.org/conflict-kg/ontology#> "
            f"DELETE {{ GRAPH ?g {{ <{claim}{slug}> kg:value ?v }} }} INSERT {{ GRAPH ?g {{ <{claim}{slug}> kg:value {form} }} }} "
            f"WHERE {{ GRAPH ?g {{ <{claim}{slug}> kg:value ?v }} }}")
    dataset = Dataset(default_union=True)
    for quad in store.oxigraph.quads_for_pattern(None, None, None, None):
        dataset.graph(URIRef(quad.graph_name.value)).add(tuple(map(term_from_oxigraph, quad.triple)))
    for slug, (_, measure, is_153) in STORED_AS.items():
        params = {"measure": f"measure:{measure}", "value": "153"}
        by_value = run_query("who-said", store=store, params=params)
        assert "?include_retracted ?figure)" in by_value.sparql
        as_written = run_query("who-said", engine=_AsWritten(store.oxigraph), params=params)
        assert "?figure)" not in as_written.sparql
        on_rdflib = run_query("who-said", engine=RdflibEngine(dataset), params=params)
        assert (claim + slug in {str(row["claim"]) for row in by_value.rows}) is is_153, slug
        assert by_value.terms == as_written.terms
        assert {row["claim"] for row in by_value.rows} == {row["claim"] for row in on_rdflib.rows}


def test_a_page_reads_about_the_rows_it_shows():
    """The ranges after the first are sized by the rows per key seen, not doubled whatever the page still
    needs: with fewer rows per key after the first keys (as in `evidence` at 1 M: 9, then 7), the last range
    once read 1 666 rows for the 24 a page still needed."""
    keys = [(URIRef(f"urn:key:{i:05d}"),) for i in range(5000)]
    ranges: dict[str, list] = {}

    def restricted(variables, batch):  # the "query" is the range itself; select answers it
        ranges[str(len(ranges))] = list(batch)
        return str(len(ranges) - 1)

    def rows_of(key):
        return 9 if int(str(key[0])[-5:]) < FIRST_RANGE else 7

    def select(token):
        return SelectResult(["key", "n"], [(key[0], Literal(n)) for key in ranges[token] for n in range(rows_of(key))])

    page = keyed_page(select, restricted, SelectResult(["key"], keys), limit=1001)
    assert len(page.rows) == 1001 and page.rows[0][0] == keys[0][0]
    read = sum(rows_of(key) for batch in ranges.values() for key in batch)
    assert read <= 1.25 * 1001, f"{read} rows read for a page of 1001"
