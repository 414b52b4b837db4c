"""The stored queries: real answers on both engines, identical rows, safe parameters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rdflib import Literal

from kg.model.errors import QueryParameterError
from kg.model.resources import default_load_paths
from kg.queries.catalogue import StoredQuery, load_catalogue, run_query
from kg.queries.engines import RdflibEngine
from kg.stores.oxigraph import FactStore, dataset_from_files

from conftest import FIXTURES

CATALOGUE = load_catalogue()
CLAIM = "https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/"
#: Parameters that make every stored query return rows on the real facts.
PARAMS = {"reporting-chain": {"text": "153 attacks"}}


@pytest.fixture(scope="module", params=["oxigraph", "rdflib"])
def engine(request, loaded_store, rdflib_engine):
    """Each answer test runs on the embedded store and on plain rdflib."""
    return loaded_store.engine if request.param == "oxigraph" else rdflib_engine


def test_catalogue_headers_are_complete():
    assert len(CATALOGUE) >= 10
    for name, query in CATALOGUE.items():
        assert query.summary and query.description, name
        for param in query.params:
            assert param.description and (param.default or param.example), f"{name}: {param.name}"


@pytest.fixture(scope="module")
def several_sources():
    """The real facts and the fictional multi-source fixtures, in the embedded store and in plain rdflib."""
    from kg.model.resources import default_load_paths
    from kg.queries.engines import RdflibEngine
    from kg.stores.oxigraph import FactStore, dataset_from_files

    from conftest import FIXTURES

    from kg.model.namespaces import RETRACTIONS_GRAPH
    from kg.services.lifecycle import retract

    files = [*default_load_paths(), *sorted((FIXTURES / "multi").glob("*.ttl"))]
    store = FactStore.in_memory()
    store.load(files)
    # One retracted claim (the courier's 2023 figure), in both, so that both engines leave it out alike.
    retract(store, ["fictional-courier-2024/attacks-2023"], reason="a test", on="2024-08-01", now="2024-08-02T00:00:00+00:00")
    dataset = dataset_from_files(files)
    target = dataset.graph(RETRACTIONS_GRAPH)
    for triple in store.graph(str(RETRACTIONS_GRAPH)):
        target.add(triple)
    return store, RdflibEngine(dataset)


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in CATALOGUE])
def test_every_stored_query_gives_identical_rows_on_oxigraph_and_rdflib(name, several_sources):
    store, rdflib_engine = several_sources
    on_oxigraph = run_query(name, store=store, params=PARAMS.get(name))
    on_rdflib = run_query(name, engine=rdflib_engine, params=PARAMS.get(name))
    assert on_oxigraph.variables == on_rdflib.variables
    assert on_oxigraph.terms == on_rdflib.terms
    assert on_oxigraph.terms, f"{name} returns no rows on the real facts and the fictional fixtures"


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in CATALOGUE if n not in ("overview", "corroboration", "sources")])
def test_every_answer_row_cites_its_source_and_quote(name, loaded_store):
    """Every stored query but the aggregates (overview, corroboration: who-said cites; sources) cites each figure it uses."""
    result = run_query(name, store=loaded_store, params=PARAMS.get(name))
    quote_columns = [v for v in result.variables if v.startswith("quote") or v.endswith("quote")]
    source_columns = [v for v in result.variables if "source" in v]
    assert quote_columns and source_columns, name
    for row in result.rows:
        assert all(row[c] for c in quote_columns + source_columns), row


def test_attacks_h1_2024_against_2023(engine):
    (row,) = run_query("compare-periods", engine=engine).rows
    assert (row["value_a"], row["value_b"]) == (153, 121)
    assert row["ratio"] == Decimal("1.264")
    assert (row["days_a"], row["days_b"], row["periods_differ_in_length"]) == (182, 365, True)
    assert row["annualised_a"] == Decimal("306.8")
    assert row["annualised_ratio"] == Decimal("2.536")
    assert row["at_least_double_annualised"] is True
    assert row["claimant_a"] == row["claimant_b"] == "US Central Command (CENTCOM)"
    assert "153 attacks" in row["quote_a"] and "121 attacks" in row["quote_b"]


def test_iraq_against_syria_in_h1_2024(engine):
    rows = {r["measure_label"]: r for r in run_query("compare-places", engine=engine).rows}
    expected = {
        "military operations conducted": (137, 59, 196, "69.9", "30.1"),
        "operatives of the subject actor killed": (30, 14, 44, "68.2", "31.8"),
        "operatives of the subject actor detained": (74, 92, 166, "44.6", "55.4"),
    }
    assert set(rows) == set(expected)
    for measure, (iraq, syria, total, share_iraq, share_syria) in expected.items():
        row = rows[measure]
        assert (row["place_a_label"], row["value_a"], row["place_b_label"], row["value_b"]) == ("Iraq", iraq, "Syria", syria)
        assert (row["total"], row["total_basis"]) == (total, "reported total")
        assert (row["share_a_percent"], row["share_b_percent"]) == (Decimal(share_iraq), Decimal(share_syria))


def test_totals_equal_the_sums_of_their_parts(engine):
    rows = run_query("totals-vs-parts", engine=engine).rows
    totals = {(r["measure_label"], r["total"], r["sum_of_parts"], r["difference"], r["verdict"]) for r in rows}
    assert totals == {
        ("military operations conducted", 196, 196, 0, "consistent"),
        ("operatives of the subject actor killed", 44, 44, 0, "consistent"),
        ("operatives of the subject actor detained", 166, 166, 0, "consistent"),
    }
    parts = sorted((r["total"], r["part_place_label"], r["part_value"]) for r in rows)
    assert parts == [(44, "Iraq", 30), (44, "Syria", 14), (166, "Iraq", 74), (166, "Syria", 92),
                     (196, "Iraq", 137), (196, "Syria", 59)]


@pytest.mark.parametrize("both_ways", [pytest.param(False, id="part-figure-of"), pytest.param(True, id="stated-both-ways")])
def test_totals_count_parts_stated_either_way_once(both_ways):
    """The fictional gazette states its parts with kg:partFigureOf (the newsweek facts with kg:hasPartFigure);
    a part stated both ways counts once, in totals-vs-parts and in compare-places."""
    import pyoxigraph
    from rdflib import URIRef

    from kg.model.namespaces import KG

    files = [*default_load_paths(), *sorted((FIXTURES / "multi").glob("*.ttl"))]
    store, dataset = FactStore.in_memory(), dataset_from_files(files)
    store.load(files)
    total = URIRef("https://w3id.org/conflict-kg/id/claim/fictional-gazette-2024/missions-2024-h1")
    if both_ways:
        part = next(dataset.subjects(KG.partFigureOf, total))
        dataset.graph(URIRef("urn:test:inverse")).add((total, KG.hasPartFigure, part))
        store.oxigraph.add(pyoxigraph.Quad(pyoxigraph.NamedNode(str(total)), pyoxigraph.NamedNode(str(KG.hasPartFigure)),
                                           pyoxigraph.NamedNode(str(part)), pyoxigraph.NamedNode("urn:test:inverse")))
    for engine in (store.engine, RdflibEngine(dataset)):
        rows = [r for r in run_query("totals-vs-parts", engine=engine).rows if r["total_claim"] == total]
        assert sorted((r["part_place_label"], r["part_value"], r["part_count"], r["sum_of_parts"], r["verdict"])
                      for r in rows) == [("Eastmarch (fictional)", 67, 2, 96, "consistent"),
                                         ("Westmarch (fictional)", 29, 2, 96, "consistent")], engine
        places = run_query("compare-places", engine=engine,
                           params={"place_a": "place:westmarch", "place_b": "place:eastmarch"}).rows
        assert [(r["value_a"], r["value_b"], r["total"], r["total_basis"]) for r in places
                if r["total_claim"] == total] == [(29, 67, 96, "reported total")], engine


def test_territorial_control_at_its_peak(engine):
    rows = run_query("figures-by-place", engine=engine).rows
    assert [(r["place_label"], r["value"], r["qualifier"], r["phrase"]) for r in rows] == [
        ("Iraq", 40, "exact", "40 percent"),
        ("Syria", Decimal("33.3"), "approximate", "around one-third"),
    ]
    assert {r["claimant"] for r in rows} == {"Wilson Center"}


def test_positions_on_the_coalitions_presence(engine):
    rows = run_query("positions", engine=engine).rows
    stances = {(r["holder"], r["stance"]) for r in rows if r["evidence_role"] == "stance"}
    assert stances == {("US Central Command (CENTCOM)", "support"), ("Iraqi officials", "oppose")}
    own_words = {r["speaker"]: r["quote"] for r in rows if r["evidence_role"] == "supporting statement"}
    assert "combined efforts of the Coalition" in own_words["Gen. Michael Erik Kurilla"]
    assert "manage the ISIS threat independently" in own_words["Iraqi officials"]


def test_reporting_chain_of_the_attack_figures(engine):
    rows = run_query("reporting-chain", engine=engine, params={"text": "153 attacks"}).rows
    assert [(r["step"], r["actor"], r["role"]) for r in rows] == [
        (0, "US Central Command (CENTCOM)", "claimant"),
        (1, "Associated Press (AP)", "relayer"),
        (2, "Newsweek", "publisher"),
    ]
    by_iri = run_query("reporting-chain", engine=engine, params={"claim": f"<{CLAIM}iraq-can-manage-threat>"}).rows
    assert [r["actor"] for r in by_iri] == ["Iraqi officials", "Associated Press (AP)", "Newsweek"]


def test_claims_by_and_about_an_actor(engine):
    by_aanes = run_query("claims-by-actor", engine=engine, params={"actor": "actor:aanes"}).rows
    assert {r["kind"] for r in by_aanes} == {"announcement"} and len(by_aanes) == 2
    by_centcom = run_query("claims-by-actor", engine=engine).rows
    assert {r["value"] for r in by_centcom if r["value"] is not None} == {153, 121, 196, 44, 166, 137, 30, 74, 59, 14, 92}
    # Kurilla speaks for CENTCOM: his statements count among CENTCOM's.
    assert "Gen. Michael Erik Kurilla" in {r["claimant"] for r in by_centcom}
    about_sdf = run_query("claims-about-actor", engine=engine, params={"actor": "actor:sdf"}).rows
    assert {r["value"] for r in about_sdf if r["value"] is not None} >= {10000, 24, 59, 196}


def test_no_disagreements_in_the_real_facts(engine):
    assert run_query("disagreements", engine=engine).rows == []


@pytest.fixture(scope="module")
def store_with_conflict():
    store = FactStore.in_memory()
    store.load([*default_load_paths(), FIXTURES / "conflicting-source.ttl"])
    return store


def test_disagreement_with_a_second_source_is_found(store_with_conflict):
    engines = [store_with_conflict.engine,
               RdflibEngine(dataset_from_files([*default_load_paths(), FIXTURES / "conflicting-source.ttl"]))]
    for engine in engines:
        (row,) = run_query("disagreements", engine=engine).rows
        assert {row["value_a"], row["value_b"]} == {153, 160}
        assert {row["claimant_a"], row["claimant_b"]} == {"US Central Command (CENTCOM)", "Example Conflict Monitor"}
        assert row["period_label"] == "first half of 2024" and row["place_label"] == "Iraq and Syria"
    # The same comparison query answers for the new source too, without a new query.
    values = sorted(r["value_a"] for r in run_query("compare-periods", store=store_with_conflict,
                                                     params={"across_sources": "yes"}).rows)
    assert values == [153, 160]
    # By default each source's figures are compared with its own: the monitor gives no 2023 figure.
    assert [r["value_a"] for r in run_query("compare-periods", store=store_with_conflict).rows] == [153]


def test_overview_counts(engine):
    rows = {(r["dimension"], r["key"]): r["count"] for r in run_query("overview", engine=engine).rows}
    assert rows[("claims per source", "Newsweek: ISIS attacks on pace to double in Iraq and Syria (2024)")] == 40
    assert rows[("claims per class", "claim")] == 40  # subclasses included
    assert rows[("claims per class", "quantity claim")] == 17
    assert rows[("claims per claimant", "US Central Command (CENTCOM)")] == 17
    assert rows[("figures per measure", "military operations conducted")] == 3


HOSTILE = [
    pytest.param('153" } } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o', id="quotes-braces-drop-all"),
    pytest.param("}", id="closing-brace"),
    pytest.param("x') || true || ('", id="filter-injection"),
    pytest.param('\\" . } DROP ALL #', id="escaped-quote-and-comment"),
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_string_parameter_is_only_a_value(value, loaded_store, rdflib_engine):
    before = loaded_store.graphs()
    for engine in (loaded_store.engine, rdflib_engine):
        result = run_query("reporting-chain", engine=engine, params={"text": value})
        assert result.rows == []
        assert f"VALUES (?claim ?text ?include_retracted) {{ (UNDEF {Literal(value).n3()} \"no\") }}" in result.sparql
    assert loaded_store.graphs() == before


@pytest.mark.parametrize("value", [
    pytest.param("actor:isis> } DROP ALL { <x", id="iri-with-braces"),
    pytest.param('<http://x> "y"', id="iri-with-quote"),
    pytest.param("not an iri", id="spaces"),
    pytest.param("nope:thing", id="unknown-prefix"),
])
def test_a_malformed_iri_parameter_is_refused(value, loaded_store):
    with pytest.raises(QueryParameterError):
        run_query("claims-by-actor", store=loaded_store, params={"actor": value})


def test_missing_and_unknown_parameters_are_clear_errors(loaded_store):
    with pytest.raises(QueryParameterError, match="needs at least one of: claim, text"):
        run_query("reporting-chain", store=loaded_store)
    with pytest.raises(QueryParameterError, match="has no parameter 'colour'"):
        run_query("positions", store=loaded_store, params={"colour": "red"})
    required = StoredQuery.from_text(
        "#+ summary: test\n#+ params:\n#+   - name: actor\n#+     required: true\n#+     description: who\n"
        "SELECT ?actor WHERE { }", name="needs-actor")
    with pytest.raises(QueryParameterError, match="needs the parameter actor"):
        required.bind({})


def test_parameters_bind_in_the_outer_where_not_in_comments():
    query = StoredQuery.from_text(
        "#+ params:\n#+   - name: x\n#+     type: string\n#+     default: a\n#+     description: d\n"
        "# WHERE { in a comment\nSELECT ?x WHERE { ?s ?p ?x }", name="t")
    bound = query.bind()
    assert bound.endswith('SELECT ?x WHERE {\n  VALUES (?x) { ("a") }\n ?s ?p ?x }')


def test_parameters_bind_in_any_valid_query_shape(loaded_store):
    """No WHERE keyword, a '#' inside an IRI and a string, braces in the SELECT clause: read as SPARQL tokens."""
    text = ('#+ params:\n#+   - name: who\n#+     type: iri\n'
            'SELECT ?label (EXISTS { ?who ?p ?o } AS ?described) # a comment with WHERE {\n'
            '{ ?who <http://www.w3.org/2000/01/rdf-schema#label> ?label FILTER (?label != "#{") }')
    query = StoredQuery.from_text(text, name="ad-hoc")
    rows = run_query(query, store=loaded_store, params={"who": "actor:centcom"}).rows
    assert [(str(row["label"]), row["described"]) for row in rows] == [("US Central Command (CENTCOM)", True)]
