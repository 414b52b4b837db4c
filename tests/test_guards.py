"""Behaviours that broke silently before (mutants/mutations.py names the mutation each test kills):
a figure in another unit, a wrong quote prefix, a load stopped midway, a cache after new shapes,
a refused Graph Store read, two hops of context in validation by parts, one retracted claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from kg.model.errors import StoreError
from kg.model.namespaces import GENERATION
from kg.model.resources import default_load_paths, shapes_path
from kg.queries.catalogue import run_query
from kg.stores.oxigraph import FactStore

from conftest import FIRST_SOURCE_FACTS
from servers import handler_server

CLAIM = "https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/"
OA = "http://www.w3.org/ns/oa#"


def test_compare_periods_never_pairs_figures_in_different_units():
    """[compare-periods-without-units] A share of attacks in percent is not a count of attacks."""
    store = FactStore.in_memory()
    store.load()
    before = run_query("compare-periods", store=store).rows
    store.update(f"""
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        INSERT {{ GRAPH <https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024> {{
            <{CLAIM}share-2023> kg:period ?period ; kg:place ?place ; kg:measure ?measure ; kg:about ?about ;
                kg:value 40 ; kg:unit <http://qudt.org/vocab/unit/PERCENT> ; kg:claimant ?claimant ;
                kg:statedIn ?source ; kg:evidence ?evidence . }} }}
        WHERE {{ GRAPH ?g {{ <{CLAIM}attacks-2023> kg:period ?period ; kg:place ?place ; kg:measure ?measure ;
                 kg:about ?about ; kg:claimant ?claimant ; kg:statedIn ?source ; kg:evidence ?evidence . }} }}""")
    after = run_query("compare-periods", store=store).rows
    assert [row["value_a"] for row in before] == [153]
    assert [(row["value_a"], row["value_b"]) for row in after] == [(153, 121)]


def test_verify_quotes_notices_a_wrong_prefix(source_text):
    """[verify-quotes-without-prefix-check]"""
    from kg.authoring.quotes import verify_quotes

    graph = Graph().parse(FIRST_SOURCE_FACTS)
    assert verify_quotes(source_text, graph).ok
    selector = next(s for s, o in graph.subject_objects(URIRef(OA + "prefix")) if str(o) == "Wednesday, according to the AP. ")
    graph.set((selector, URIRef(OA + "prefix"), Literal("Tuesday, according to the AP. ")))
    report = verify_quotes(source_text, graph)
    assert not report.ok
    assert any("the prefix 'Tuesday, according to the AP. ' does not come right before the quote" in p.message
               for p in report.problems)


class _FailingSecondLoad:
    """A pyoxigraph store whose second file load fails, as a full disk or Ctrl-C would stop it."""

    def __init__(self, store):
        self._inner, self._loads = store, 0

    def load(self, *args, **kwargs):
        self._loads += 1
        if self._loads == 2:
            raise OSError("No space left on device")
        return self._inner.load(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_a_load_stopped_midway_leaves_nothing_it_wrote(tmp_path):
    """[fast-load-without-rollback] Not at the next open: at once, in the same process."""
    with FactStore(tmp_path / "store") as store:
        store._store = _FailingSecondLoad(store._store)
        with pytest.raises(StoreError, match="nothing was changed"):
            store.load(default_load_paths(), check=False)
        assert store.graphs() == {}
        # Not even the journal is left; only the store's new generation (kept answers no longer count).
        assert [q.predicate.value for q in store._store._inner] == [str(GENERATION)]


def test_a_reload_after_the_shapes_change_validates_everything(tmp_path, monkeypatch):
    """[rules-digest-ignores-shapes] Files the store holds unchanged are skipped only under the same rules."""
    from kg.services.load import load

    with FactStore(tmp_path / "store") as store:
        load(store)
        assert load(store).graphs == {}  # same files, same rules: nothing read
        changed = tmp_path / "shapes.ttl"
        changed.write_text(shapes_path().read_text(encoding="utf-8") + "\n# one more rule would go here\n",
                           encoding="utf-8")
        monkeypatch.setattr("kg.stores.hashing.shapes_path", lambda: changed)
        again = load(store)
        assert again.skipped == {} and len(again.graphs) == 3 and again.conforms


def test_a_refused_graph_store_read_is_an_error_not_a_fallback():
    """[graph-store-read-falls-back-on-any-error] A 401 or 500 on GET ?graph= is not "no Graph Store here"."""
    from kg.stores.sparql_protocol import Endpoint, EndpointError, RemoteStore

    triples = b'<http://example.org/a> <http://example.org/b> "from the query endpoint" .\n'

    def respond(handler):
        refused = handler.command == "GET" and handler.path.startswith("/store")
        status, body, kind = (500, b"internal error", "text/plain") if refused else (200, triples, "application/n-triples")
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with handler_server(respond) as url, RemoteStore(Endpoint.at(url, timeout=5, retries=0)) as store:
        with pytest.raises(EndpointError, match="500"):
            store.graph("http://example.org/g")


def _file(folder: Path, name: str, turtle: str) -> Path:
    path = folder / name
    dataset = f"<http://example.org/file/{name}> a <http://rdfs.org/ns/void#Dataset> .\n"  # names the file's graph
    path.write_text("@prefix ex: <http://example.org/> .\n" + dataset + turtle, encoding="utf-8")
    return path


def test_validation_in_parts_sees_two_hops_of_context(tmp_path):
    """[parts-one-hop] A rule about a value's value, with the three nodes in three files, gives the same
    report in parts as whole: the publisher's type lies two hops from the claim."""
    from kg.validation.validator import validate

    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:ClaimShape a sh:NodeShape ; sh:targetClass ex:Claim ;
            sh:property [ sh:path ( ex:statedIn ex:publisher ) ; sh:class ex:Organisation ;
                          sh:message "published by an organisation" ] .""", format="turtle")
    files = [_file(tmp_path, "claims.ttl", "ex:claim a ex:Claim ; ex:statedIn ex:report .\n"),
             _file(tmp_path, "reports.ttl", "ex:report ex:publisher ex:agency .\n"),
             _file(tmp_path, "agencies.ttl", "ex:agency a ex:Organisation .\n")]
    whole = validate(files, shapes=shapes)
    parts = validate(files, shapes=shapes, part_bytes=1)
    assert whole.conforms and parts.conforms, parts.to_text()
    _file(tmp_path, "agencies.ttl", "ex:agency a ex:Person .\n")
    assert not validate(files, shapes=shapes, part_bytes=1).conforms  # and the rule does fire when broken


def test_one_retracted_claim_leaves_the_comparison():
    """[retracted-claims-counted] Retracting one claim (not its source) takes it out of compare-periods."""
    from kg.services.lifecycle import retract

    store = FactStore.in_memory()
    store.load()
    assert [row["value_a"] for row in run_query("compare-periods", store=store).rows] == [153]
    retract(store, ["newsweek-isis-attacks-2024/attacks-2024-h1"], reason="test: the figure was withdrawn",
            now="2026-11-25T00:00:00+00:00")
    assert run_query("compare-periods", store=store).rows == []
    assert [row["value_a"] for row in run_query("compare-periods", store=store,
                                                params={"include_retracted": "yes"}).rows] == [153]


def test_a_report_about_some_nodes_says_so_in_its_graph_and_text(tmp_path):
    """validate(only=...) judges those nodes: its SHACL graph and its text agree with its verdict."""
    from rdflib.namespace import SH

    from kg.model.resources import facts_dir
    from kg.validation.validator import validate

    broken = tmp_path / "reference.ttl"
    broken.write_text((facts_dir() / "reference.ttl").read_text(encoding="utf-8").replace(
        "\nmeasure:attacks-claimed\n", "\nmeasure:attacks-claimed-renamed\n"), encoding="utf-8")
    whole = validate([broken, FIRST_SOURCE_FACTS])
    assert not whole.conforms
    elsewhere = {URIRef("https://w3id.org/conflict-kg/id/actor/centcom")}  # nodes the broken link does not touch
    report = validate([broken, FIRST_SOURCE_FACTS], only=elsewhere)
    assert report.conforms and report.problems == []
    assert report.results_graph.value(next(report.results_graph.subjects(None, SH.ValidationReport)), SH.conforms) \
        == Literal(True)
    assert not set(report.results_graph.subjects(None, SH.ValidationResult))
    assert "Conforms: True" in report.results_text and "does not conform" not in report.to_text().lower()
