"""The two stores are one interface: the embedded Oxigraph store and a real `oxigraph serve` offer every
primitive of the Store protocol with the same parameters, and give the same answers to them."""

from __future__ import annotations

import inspect

import pytest
from rdflib import Dataset, URIRef
from rdflib.compare import isomorphic

from kg.stores.base import Store
from kg.stores.oxigraph import FactStore
from kg.stores.sparql_protocol import Endpoint, RemoteStore

from conftest import FIXTURES
from servers import oxigraph_server

PROTOCOL_METHODS = sorted(n for n in vars(Store) if not n.startswith("_") and n != "engine")


@pytest.mark.parametrize("implementation", [FactStore, RemoteStore], ids=["embedded", "sparql-protocol"])
@pytest.mark.parametrize("method", PROTOCOL_METHODS)
def test_each_store_offers_each_primitive_with_the_protocols_parameters(implementation, method):
    assert hasattr(implementation, method), f"{implementation.__name__} has no {method}"
    wanted = inspect.signature(getattr(Store, method)).parameters
    offered = inspect.signature(getattr(implementation, method)).parameters
    for name, parameter in wanted.items():
        assert name in offered, f"{implementation.__name__}.{method} lacks the parameter {name}"
        assert offered[name].kind == parameter.kind, f"{implementation.__name__}.{method}({name}) is passed differently"
    extra = [p for n, p in offered.items() if n not in wanted and p.default is inspect.Parameter.empty
             and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert extra == [], f"{implementation.__name__}.{method} requires more than the protocol gives: {extra}"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The project's facts and the fictional monitor in an embedded store and in a real `oxigraph serve`."""
    files = [FIXTURES / "fictional-monitor-2024.ttl"]
    embedded = FactStore.in_memory()
    embedded.load()
    embedded.load(files)
    with oxigraph_server(tmp_path_factory.mktemp("server")) as url:
        remote = RemoteStore(Endpoint.at(url))
        remote.load()
        remote.load(files)
        yield embedded, remote
        remote.close()


def test_both_are_stores(both):
    assert all(isinstance(store, Store) for store in both)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_describe_gives_the_same_triples_to_each_depth(both, depth):
    embedded, remote = both
    claims = [URIRef("https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1"),
              URIRef("https://w3id.org/conflict-kg/id/claim/fictional-monitor-2024/attacks-2024-h1")]
    here, there = embedded.describe(claims, depth=depth), remote.describe(claims, depth=depth)
    assert len(here) > 0 and isomorphic(here, there)
    if depth:
        assert len(here) > len(embedded.describe(claims, depth=depth - 1))  # each level adds the blank nodes' details


@pytest.mark.parametrize("fmt", ["trig", "nquads", "jsonld", "turtle", "ntriples"])
def test_export_gives_the_same_graphs(both, fmt):
    embedded, remote = both
    parsed = []
    for store in both:
        dataset = Dataset()
        dataset.parse(data=store.export(fmt), format={"trig": "trig", "nquads": "nquads", "jsonld": "json-ld",
                                                      "turtle": "turtle", "ntriples": "nt"}[fmt])
        parsed.append(dataset)
    here, there = parsed
    if fmt in ("turtle", "ntriples"):
        assert len(here) == len(there) > 2000
    else:
        names = lambda d: sorted(str(g.identifier) for g in d.graphs() if len(g))
        assert names(here) == names(there) == sorted(embedded.graphs())
        for iri in embedded.graphs():
            assert isomorphic(here.graph(URIRef(iri)), there.graph(URIRef(iri))), iri


def test_validating_one_graph_gives_the_same_report_on_both(both):
    graph = "https://w3id.org/conflict-kg/id/source/fictional-monitor-2024"
    reports = [store.validate([graph]) for store in both]
    assert reports[0].conforms and reports[1].conforms
    assert [(p.severity, p.focus, p.shape) for p in reports[0].problems] == \
           [(p.severity, p.focus, p.shape) for p in reports[1].problems]
    with pytest.raises(Exception, match="not one of kg's graphs"):
        both[0].validate(["https://example.org/no-such-graph"])


def test_the_commands_work_on_either_store_alike(both, tmp_path):
    """`kg export` and `kg validate --graph` take --endpoint as they take --store: the CLI never asks which."""
    from click.testing import CliRunner

    from kg.cli import main

    embedded, remote = both
    store_path = tmp_path / "store"
    with FactStore(store_path) as disk:
        disk.load()
        disk.load([FIXTURES / "fictional-monitor-2024.ttl"])
    runner = CliRunner()
    outputs = []
    for where in (["--store", str(store_path)], ["--endpoint", remote.endpoint.query_url]):
        exported = runner.invoke(main, ["export", "--format", "nquads", *where])
        assert exported.exit_code == 0, exported.output
        outputs.append(len(exported.stdout_bytes.splitlines()))
        checked = runner.invoke(main, ["validate", "--graph", "https://w3id.org/conflict-kg/id/source/fictional-monitor-2024",
                                       *where])
        assert checked.exit_code == 0 and "conforms" in checked.output.lower(), checked.output
    assert outputs[0] == outputs[1] == len(embedded.export("nquads").splitlines())


def test_max_rows_stops_an_answer_on_both(both):
    from kg.queries.catalogue import run_query
    from kg.queries.engines import QueryLimitError

    for store in both:
        assert len(run_query("evidence", store=store).rows) > 1
        with pytest.raises(QueryLimitError, match="more than 1 row"):
            run_query("evidence", store=store, max_rows=1)
