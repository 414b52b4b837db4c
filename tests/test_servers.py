"""Any SPARQL 1.1 store, proven: every stored query gives the same rows — values and datatypes — on
the embedded store, a real `oxigraph serve` and a real Virtuoso, loaded the same way by kg."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from rdflib import BNode
from rdflib.compare import isomorphic

from kg.model.rdffiles import read_facts_file
from kg.model.resources import default_load_paths
from kg.queries.catalogue import load_catalogue, run_query
from kg.services.lifecycle import retract
from kg.stores.oxigraph import FactStore
from kg.stores.sparql_protocol import Endpoint, RemoteStore

from conftest import MULTI, MULTI_FILES
from servers import oxigraph_server, virtuoso_server

CATALOGUE = load_catalogue()
FILES = [*default_load_paths(), *MULTI_FILES]
RETRACTED = "fictional-courier-2024/attacks-2023"


def _filled(store):
    store.load(FILES)
    retract(store, [RETRACTED], reason="a test", on="2024-08-01", now="2024-08-02T00:00:00+00:00")
    return store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The same data, loaded by kg, in the three stores."""
    embedded = _filled(FactStore.in_memory())
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as oxigraph_url, \
            virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as virtuoso_url:
        oxigraph = _filled(RemoteStore(Endpoint.at(oxigraph_url, timeout=60)))
        virtuoso = _filled(RemoteStore(Endpoint.at(virtuoso_url, server="virtuoso", timeout=60)))
        yield {"embedded": embedded, "oxigraph-serve": oxigraph, "virtuoso": virtuoso}
        oxigraph.close()
        virtuoso.close()


def _params(query) -> dict:
    return {name: query.param(name).example for name in query.requires_one_of[:1]}


def _typed(rows) -> list[tuple]:
    """Each value with its datatype (or language), so that 1 and true, 1.264 and 1 differ."""
    return [tuple(None if t is None else (str(t), str(getattr(t, "datatype", None) or getattr(t, "language", None) or ""))
                  for t in row) for row in rows]


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in CATALOGUE])
def test_every_stored_query_gives_the_same_rows_on_every_store(name, stores):
    query = CATALOGUE[name]
    answers = {kind: run_query(query, store=store, params=_params(query), timeout=60) for kind, store in stores.items()}
    embedded = answers["embedded"]
    assert embedded.rows, f"{name} returns no rows: nothing is compared"
    for kind in ("oxigraph-serve", "virtuoso"):
        answer = answers[kind]
        assert answer.variables == embedded.variables, kind
        assert _typed(answer.terms) == _typed(embedded.terms), kind


_VIRTUOSO_DISTINCT = pytest.mark.xfail(strict=True, reason=(
    "Virtuoso 7.2 repeats a row in a page of SELECT DISTINCT … ORDER BY … LIMIT/OFFSET (the whole answer is right); "
    "found by this test, not yet worked around"))


@pytest.mark.parametrize("kind", ["oxigraph-serve", "virtuoso"])
@pytest.mark.parametrize("name, params, limit", [
    pytest.param("evidence", {}, 3, id="evidence-page"),
    pytest.param("claims-about-actor", {}, 3, id="claims-about-actor-page"),
    pytest.param("reporting-chain", {"text": "attacks"}, 3, id="reporting-chain-page"),
    pytest.param("totals-vs-parts", {}, 3, id="totals-vs-parts-page"),
    pytest.param("who-said", {"value": "153"}, None, id="who-said-by-value")])
def test_pages_read_by_key_and_figures_looked_up_by_value_are_the_same_on_every_store(name, params, limit, kind, stores,
                                                                                      request):
    """oxigraph serve gets kg's key ranges and number lookups (kg.queries.paging); Virtuoso the query as written."""
    if (name, kind) == ("claims-about-actor", "virtuoso"):
        request.applymarker(_VIRTUOSO_DISTINCT)
    assert {n for n, q in CATALOGUE.items() if q.page_keys} == {"evidence", "claims-about-actor", "reporting-chain",
                                                                 "totals-vs-parts"}
    whole = run_query(CATALOGUE[name], store=stores["embedded"], params=params, timeout=60).terms
    offset = max(0, len(whole) - 4) if limit else 0
    assert whole
    page = run_query(CATALOGUE[name], store=stores[kind], params=params, limit=limit, offset=offset, timeout=60)
    assert _typed(page.terms) == _typed(whole[offset:offset + limit if limit else None])


def test_the_stores_hold_the_same_graphs_and_kg_sees_only_its_own(stores):
    counts = {kind: store.graphs() for kind, store in stores.items()}
    assert counts["virtuoso"] == counts["oxigraph-serve"] == counts["embedded"]


def test_where_a_server_has_no_graph_store_one_update_per_graph_loads_blank_nodes_too(stores, tmp_path):
    """Virtuoso refuses INSERT DATA with blank nodes; kg's fallback (INSERT … WHERE {}) loads them."""
    from kg.stores.oxigraph import FactStore

    url = stores["virtuoso"].endpoint.query_url
    no_gsp = Endpoint(query_url=url, update_url=url, gsp_url=url.replace("/sparql", "/no-graph-store"))
    source = MULTI / "fictional-wire-2024.ttl"
    with RemoteStore(no_gsp) as remote:
        remote.write([read_facts_file(source)])
        loaded = remote.graph("https://w3id.org/conflict-kg/id/source/fictional-wire-2024")
    expected = FactStore.in_memory()
    expected.load([*default_load_paths(), MULTI / "fictional-reference.ttl", source])
    assert isomorphic(loaded, expected.graph("https://w3id.org/conflict-kg/id/source/fictional-wire-2024"))
    assert any(isinstance(o, BNode) for o in loaded.objects())


def test_an_answer_virtuoso_cuts_at_its_row_limit_is_refused_and_a_page_below_it_is_given(tmp_path):
    """Virtuoso stops at ResultSetMaxRows without an error (10 000 by default), saying so only in a header."""
    from kg.stores.sparql_protocol import EndpointError

    with virtuoso_server(tmp_path / "virtuoso", max_rows=30) as url:
        store = RemoteStore(Endpoint.at(url, server="virtuoso", timeout=60))
        store.load(default_load_paths())
        embedded = _embedded()
        assert len(run_query("evidence", store=embedded).rows) == 40  # more than the server gives at once
        with pytest.raises(EndpointError, match="cut its answer at 30 rows, its own limit"):
            run_query("evidence", store=store)
        page = run_query("evidence", store=store, limit=10, offset=10)
        assert page.terms == run_query("evidence", store=embedded, limit=10, offset=10).terms and len(page.rows) == 10
        store.close()


def _embedded():
    store = FactStore.in_memory()
    store.load(default_load_paths())
    return store


FOREIGN = "http://example.org/someone-elses-data"


@contextmanager
def someone_elses_graph(store):
    """A graph kg does not manage in the store while the block runs; dropped afterwards."""
    store.update(f"INSERT DATA {{ GRAPH <{FOREIGN}> {{ <http://example.org/x> <http://example.org/p> 1 }} }}")
    try:
        yield
    finally:
        store.update(f"DROP SILENT GRAPH <{FOREIGN}>")


@pytest.mark.parametrize("kind", ["oxigraph-serve", "virtuoso"])
def test_graphs_kg_does_not_manage_are_left_alone_and_never_block_a_load(stores, kind):
    """Someone else's graph in the same store — here one kg's shapes would reject — is not kg's: not listed,
    validated, queried, exported or touched; a load beside it validates and writes as if it were not there.
    (Virtuoso's own system graphs are there all along.)"""
    from kg.services.load import load

    store = stores[kind]
    kg = "https://w3id.org/conflict-kg/ontology#"
    store.update(f"INSERT DATA {{ GRAPH <{FOREIGN}> {{ <http://example.org/x> a <{kg}QuantityClaim> ; "
                 f"<{kg}value> -5 ; <{kg}statedIn> <https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024> }} }}")
    try:
        assert FOREIGN not in store.graphs() and store.graphs() == stores["embedded"].graphs()
        assert store.validate().conforms
        report = store.load([MULTI / "fictional-wire-2024.ttl"])  # validated with every graph kg keeps there
        assert report.conforms and list(report.graphs) == ["https://w3id.org/conflict-kg/id/source/fictional-wire-2024"]
        assert load(store, FILES).conforms  # the whole corpus validated and written beside it
        assert load(store, FILES).graphs == {}  # and again: everything unchanged, skipped
        overview = run_query("overview", store=store).rows
        assert overview == run_query("overview", store=stores["embedded"]).rows
        assert b"example.org" not in store.export("nquads")
        left = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FOREIGN}> {{ ?s ?p ?o }} }}").rows
        assert int(left[0][0]) == 3
    finally:
        store.update(f"DROP SILENT GRAPH <{FOREIGN}>")


def test_virtuosos_authenticated_endpoint_is_answered_with_digest_and_a_wrong_password_is_refused(stores, monkeypatch):
    """Virtuoso's /sparql-auth challenges with HTTP Digest (dba/dba on a fresh database)."""
    from kg.stores.sparql_protocol import EndpointError

    url = stores["virtuoso"].endpoint.query_url.replace("/sparql", "/sparql-auth")
    monkeypatch.setenv("KG_ENDPOINT_USER", "dba")
    monkeypatch.setenv("KG_ENDPOINT_PASSWORD", "dba")
    with RemoteStore(Endpoint.at(url, server="virtuoso", timeout=60)) as store:
        assert store.graphs() == stores["embedded"].graphs()
        assert run_query("compare-periods", store=store).rows[0]["value_a"] == 153
    monkeypatch.setenv("KG_ENDPOINT_PASSWORD", "not-the-password")
    with RemoteStore(Endpoint.at(url, server="virtuoso", timeout=60)) as store:
        with pytest.raises(EndpointError) as refused:
            store.graphs()
    message = str(refused.value)
    assert "401" in message and "not-the-password" not in message and "set KG_ENDPOINT_USER" not in message


def test_oxigraph_server_holding_kgs_graphs_only_is_queried_through_its_union_default_graph(stores):
    """The same default graph as hundreds of listed graphs (which made oxigraph serve take minutes at 100 k
    triples), used only while nothing but kg's graphs is there: a foreign graph brings the list back."""
    store = stores["oxigraph-serve"]
    engine = store.engine
    assert engine.union and engine.default_graphs == []
    assert run_query("overview", engine=engine).rows == run_query("overview", store=stores["embedded"]).rows
    with someone_elses_graph(store):
        engine = store.engine
        assert not engine.union and engine.default_graphs == sorted(store.graphs())
    store.update("INSERT DATA { <http://example.org/x> <http://example.org/p> 1 }")  # the server's own default graph
    try:
        assert not store.engine.union
    finally:
        store.update("DELETE DATA { <http://example.org/x> <http://example.org/p> 1 }")


def test_virtuoso_holding_kgs_graphs_and_its_own_is_queried_through_its_default_graph(stores):
    """Virtuoso's default graph is the union of all its graphs: kg's and its system graphs (about its own
    schemas), used while nothing else is there — 370 listed graphs ran it out of memory on disagreements."""
    store = stores["virtuoso"]
    engine = store.engine
    assert engine.default_graphs == [] and not engine.union
    assert run_query("overview", engine=engine).rows == run_query("overview", store=stores["embedded"]).rows
    with someone_elses_graph(store):
        assert store.engine.default_graphs == sorted(store.graphs())


def test_a_query_over_more_graphs_than_http_headers_allowed_is_answered(stores, tmp_path):
    """Virtuoso echoes each graph of the dataset as a header: with kg's 100+ graphs, Python's HTTP client
    refused the answer (more than 100 headers) as a broken connection."""
    from kg.authoring.synth import synthesize

    synthesize(sources=110, seed=3, out=tmp_path)
    files = [tmp_path / "facts" / "synth-reference.ttl", *sorted((tmp_path / "facts").glob("synth-3-*.ttl"))]
    store = stores["virtuoso"]
    store.load(files, check=False)
    added = [str(read_facts_file(f).graph_iri) for f in files]
    # With someone else's graph there, kg lists its own: all 110 more of them.
    try:
        with someone_elses_graph(store):
            assert len(store.engine.default_graphs) > 110
            embedded = _filled(FactStore.in_memory())
            embedded.load(files, check=False)
            answer = run_query("overview", store=store, timeout=60).rows
            assert any(row["key"].startswith("Synthetic") for row in answer)
            assert answer == run_query("overview", store=embedded).rows
    finally:
        store.remove_graphs(added)
    assert store.graphs() == stores["embedded"].graphs()
