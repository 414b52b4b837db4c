"""Loading into and querying a real SPARQL server: an `oxigraph serve` started on loopback,
plus small local HTTP handlers for the faults a real server rarely shows on demand."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.errors import ValidationFailed
from kg.model.resources import default_load_paths, facts_dir
from kg.queries.catalogue import load_catalogue, run_query
from kg.stores.sparql_protocol import Endpoint, EndpointError, PartialLoadError, RemoteStore

from conftest import FIXTURES
from servers import handler_server, oxigraph_server

PARAMS = {"reporting-chain": {"text": "153 attacks"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as url:
        yield url


@pytest.fixture(scope="module")
def remote(server):
    store = RemoteStore(Endpoint.at(server, timeout=20))
    store.load()
    yield store
    store.close()


def kg(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_load_puts_each_file_in_its_graph(remote):
    assert remote.graphs() == {
        "https://w3id.org/conflict-kg/id/reference": 406,
        "https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024": 1468,
        "https://w3id.org/conflict-kg/ontology": 642,
    }


def test_reloading_changes_nothing(remote, server):
    before = remote.graphs()
    result = kg("load", "--endpoint", server)
    assert result.exit_code == 0, result.output
    assert remote.graphs() == before


def test_reloading_one_file_replaces_only_its_graph(tmp_path, server):
    with oxigraph_server(tmp_path / "db") as url, RemoteStore(Endpoint.at(url)) as store:
        store.load()
        changed = tmp_path / "newsweek.ttl"
        text = (facts_dir() / "newsweek-isis-attacks-2024.ttl").read_text()
        changed.write_text(text.replace('kg:encodingNote "The sentence says', 'kg:encodingNote "Note: the sentence says'))
        store.load([changed])
        graphs = store.graphs()
        assert graphs["https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024"] == 1468
        assert graphs["https://w3id.org/conflict-kg/id/reference"] == 406
        notes = store.select(
            "SELECT ?note WHERE { GRAPH ?g { ?claim <https://w3id.org/conflict-kg/ontology#encodingNote> ?note } "
            "FILTER (STRSTARTS(STR(?note), 'Note: the sentence says') || STRSTARTS(STR(?note), 'The sentence says')) }")
        assert [str(row[0])[:10] for row in notes.rows] == ["Note: the "]


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in load_catalogue()])
def test_every_stored_query_returns_the_embedded_rows(name, remote, loaded_store):
    """Oxigraph server's default graph is not the union of its graphs; the answers must still match."""
    embedded = run_query(name, store=loaded_store, params=PARAMS.get(name))
    on_server = run_query(name, engine=remote.engine, params=PARAMS.get(name))
    assert on_server.variables == embedded.variables
    assert on_server.terms == embedded.terms


def test_the_servers_default_graph_really_is_not_the_union(remote):
    assert remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0].toPython() == 0


def test_cli_query_and_stats_over_the_endpoint(server, remote):
    result = kg("query", "totals-vs-parts", "--format", "csv", "--endpoint", server)
    assert result.exit_code == 0 and result.output.count("consistent") == 6
    stats = kg("stats", "--endpoint", server)
    assert stats.exit_code == 0 and "1468" in stats.output


def test_remote_validation(server, remote):
    result = kg("validate", "--endpoint", server)
    assert result.exit_code == 0 and "Validation conforms" in result.output
    one = kg("validate", "--endpoint", server, "--graph", "https://w3id.org/conflict-kg/id/reference")
    assert one.exit_code == 0
    # A source's graph is checked with what it depends on (ontology, reference data): no false violations.
    source = kg("validate", "--endpoint", server, "--graph",
                "https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024")
    assert source.exit_code == 0 and "0 violations" in source.output, source.output[-2000:]
    unknown = kg("validate", "--endpoint", server, "--graph", "https://w3id.org/conflict-kg/id/source/nothing")
    assert unknown.exit_code == 2 and "is not one of kg's graphs" in unknown.output


def test_remote_validation_of_one_graph_reports_its_own_problems_only(tmp_path):
    """A broken source is found when it is the graph asked for, and not reported when another graph is."""
    broken = tmp_path / "fictional-monitor-2024.ttl"
    broken.write_text((FIXTURES / "fictional-monitor-2024.ttl").read_text(encoding="utf-8").replace(
        "kg:claimant actor:fictional-monitor ;", "kg:claimant <https://w3id.org/conflict-kg/id/actor/nobody> ;", 1),
        encoding="utf-8")
    with oxigraph_server(tmp_path / "db") as url, RemoteStore(Endpoint.at(url)) as store:
        store.load()
        store.load([broken], check=False)
        mine = store.validate(["https://w3id.org/conflict-kg/id/source/fictional-monitor-2024"])
        other = store.validate(["https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024"])
    assert not mine.conforms and any("nobody" in p.message or "nobody" in str(p.value) for p in mine.problems)
    assert other.conforms


def test_remote_validation_finds_a_broken_graph(tmp_path):
    with oxigraph_server(tmp_path / "db") as url, RemoteStore(Endpoint.at(url)) as store:
        store.load()
        broken = tmp_path / "broken.ttl"
        broken.write_text((facts_dir() / "newsweek-isis-attacks-2024.ttl").read_text().replace("kg:value 153 ;", "kg:value -153 ;"))
        store.load([broken], check=False)  # a production store someone loaded without kg
        result = kg("validate", "--endpoint", url)
        assert result.exit_code == 1 and "non-negative" in result.output


def test_nothing_invalid_is_sent(tmp_path):
    with oxigraph_server(tmp_path / "db") as url, RemoteStore(Endpoint.at(url)) as store:
        store.load()
        before = store.graphs()
        broken = tmp_path / "broken.ttl"
        broken.write_text((facts_dir() / "newsweek-isis-attacks-2024.ttl").read_text().replace("kg:value 153 ;", "kg:value -153 ;"))
        with pytest.raises(ValidationFailed):
            store.load([broken])
        assert store.graphs() == before


def test_falls_back_to_sparql_update_without_graph_store_protocol(tmp_path):
    with oxigraph_server(tmp_path / "db") as url:
        # A GSP URL that answers 404, as on a server without the protocol; not given explicitly.
        endpoint = Endpoint(query_url=url, update_url=url.replace("/query", "/update"),
                            gsp_url=url.replace("/query", "/no-gsp-here"))
        with RemoteStore(endpoint) as store:
            store.load([*default_load_paths(), FIXTURES / "conflicting-source.ttl"])
            assert store.graphs()["https://w3id.org/conflict-kg/id/source/fixture-conflicting-monitor"] > 20
            (row,) = run_query("disagreements", engine=store.engine).rows
            assert {row["value_a"], row["value_b"]} == {153, 160}


def test_a_server_stopped_mid_run(tmp_path):
    with oxigraph_server(tmp_path / "db") as url:
        kg("load", "--endpoint", url)
    result = kg("query", "overview", "--endpoint", url, "--timeout", "2")
    assert result.exit_code == 2
    assert "refused" in result.output and "Traceback" not in result.output


def test_a_wrong_url(server):
    wrong = server.replace("/query", "/nothing-here")
    result = kg("query", "overview", "--endpoint", wrong)
    assert result.exit_code == 2
    assert "404" in result.output and "SPARQL query endpoint" in result.output


def test_not_an_http_url():
    result = kg("query", "overview", "--endpoint", "ftp://127.0.0.1/query")
    assert result.exit_code == 2 and "http(s) URL" in result.output


# --- small local handlers for faults ------------------------------------------------------


def answer(status: int, body: bytes, content_type: str = "text/plain", delay: float = 0.0):
    def respond(handler):
        if delay:
            time.sleep(delay)
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return respond


@pytest.mark.parametrize("respond, args, message", [
    pytest.param(answer(500, b"the disk is on fire"), ["query", "overview"], "the disk is on fire", id="http-500-query"),
    pytest.param(answer(500, b"the disk is on fire"), ["load"], "the disk is on fire", id="http-500-load"),
    pytest.param(answer(200, b"<html>hello</html>", "text/html"), ["query", "overview"], "not SPARQL JSON results",
                 id="garbage-answer"),
    pytest.param(answer(413, b"request entity too large"), ["load", "--no-validate"], "request size limit", id="too-large"),
    pytest.param(answer(401, b"who are you"), ["query", "overview"], "KG_ENDPOINT_USER", id="unauthorised"),
    pytest.param(answer(200, b"{}", "application/json", delay=3), ["query", "overview", "--timeout", "0.5"],
                 "no answer within 0.5 s", id="slow-server"),
])
def test_faults_get_one_clear_paragraph_and_exit_2(respond, args, message):
    with handler_server(respond) as url:
        result = kg(*args, "--endpoint", url)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_idempotent_requests_are_retried(monkeypatch):
    calls = []

    def flaky(handler):
        calls.append(handler.command)
        status = 503 if len(calls) == 1 else 200
        body = b'{"head": {"vars": ["n"]}, "results": {"bindings": []}}'
        answer(status, body, "application/sparql-results+json")(handler)

    with handler_server(flaky) as url, RemoteStore(Endpoint.at(url)) as store:
        assert store.select("SELECT ?n WHERE {}").rows == []
    assert len(calls) == 2


def test_a_load_failing_midway_names_what_was_loaded_and_a_rerun_completes_it(tmp_path):
    with oxigraph_server(tmp_path / "db") as real:
        real_base = real.rsplit("/", 1)[0]
        state = {"puts": 0, "fail": True}

        def proxy(handler):
            if handler.command == "PUT":
                state["puts"] += 1
                if state["fail"] and state["puts"] == 2:
                    return answer(500, b"simulated crash")(handler)
            request = urllib.request.Request(real_base + handler.path.replace("/query", "/query", 1),
                                             data=handler.body or None, method=handler.command,
                                             headers={k: v for k, v in handler.headers.items() if k.lower() != "host"})
            try:
                with urllib.request.urlopen(request, timeout=20) as upstream:
                    answer(upstream.status, upstream.read(), upstream.headers.get("Content-Type", "text/plain"))(handler)
            except urllib.error.HTTPError as error:
                answer(error.code, error.read())(handler)

        import urllib.error

        with handler_server(proxy) as url:
            with RemoteStore(Endpoint.at(url, retries=0)) as store, pytest.raises(PartialLoadError) as failure:
                store.load()
            assert failure.value.loaded == ["https://w3id.org/conflict-kg/ontology"]
            assert len(failure.value.not_loaded) == 2
            assert "running the same command again completes the load" in str(failure.value)
            state["fail"] = False
            result = kg("load", "--endpoint", url)
            assert result.exit_code == 0, result.output
        with RemoteStore(Endpoint.at(real)) as store:
            assert sum(store.graphs().values()) == 642 + 1468 + 406


def test_add_over_the_endpoint_checks_against_the_remote_store(tmp_path):
    with oxigraph_server(tmp_path / "db") as url:
        assert kg("load", "--endpoint", url).exit_code == 0
        dry = kg("add", FIXTURES / "fictional-monitor-2024.ttl", "--dry-run", "--endpoint", url)
        assert dry.exit_code == 0 and "disagrees with" in dry.output
        with RemoteStore(Endpoint.at(url)) as store:
            assert "https://w3id.org/conflict-kg/id/source/fictional-monitor-2024" not in store.graphs()
        added = kg("add", FIXTURES / "fictional-monitor-2024.ttl", "--endpoint", url)
        assert added.exit_code == 0, added.output
        result = kg("query", "disagreements", "--format", "csv", "--endpoint", url)
        assert "Fictional Monitor" in result.output


# --- servers that drip, flood, lie and redirect ---------------------------------------------

EMPTY_RESULTS = b'{"head": {"vars": ["g", "n"]}, "results": {"bindings": []}}'


def drip(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/sparql-results+json")
    handler.end_headers()
    try:
        for byte in EMPTY_RESULTS * 100:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)
    except (BrokenPipeError, ConnectionResetError):
        pass


def flood(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/sparql-results+json")
    handler.end_headers()
    try:
        handler.wfile.write(b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "')
        chunk = b"x" * (1 << 20)
        for _ in range(200):
            handler.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass


LYING_COUNT = (b'{"head": {"vars": ["g", "n"]}, "results": {"bindings": [{"g": {"type": "uri", "value": "urn:g"}, '
               b'"n": {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "lots"}}]}}')


def test_a_dripping_server_cannot_hold_kg_past_its_deadline():
    with handler_server(drip) as url:
        started = time.monotonic()
        result = kg("stats", "--endpoint", url, "--timeout", "1")
        assert time.monotonic() - started < 5
    assert result.exit_code == 2 and "no answer within 1 s" in result.output


def test_a_flooding_server_is_read_up_to_the_cap_only():
    with handler_server(flood) as url, RemoteStore(Endpoint(url, url, url, timeout=20,
                                                            max_answer_bytes=4 * 2**20)) as store:
        with pytest.raises(EndpointError, match="larger than 4 MB, kg's limit for one answer"):
            store.select("SELECT ?x WHERE { ?x ?p ?o }")


def test_a_malformed_count_is_a_clear_error():
    with handler_server(answer(200, LYING_COUNT, "application/sparql-results+json")) as url:
        result = kg("stats", "--endpoint", url)
    assert result.exit_code == 2 and "not a number" in result.output and "Traceback" not in result.output


@contextmanager
def recording_server():
    """A server that answers empty results and records every request's headers."""
    seen = []

    def record(handler):
        seen.append(dict(handler.headers))
        answer(200, EMPTY_RESULTS, "application/sparql-results+json")(handler)

    with handler_server(record) as url:
        yield url, seen


def test_credentials_never_follow_a_redirect_to_another_port(monkeypatch):
    monkeypatch.setenv("KG_ENDPOINT_USER", "analyst")
    monkeypatch.setenv("KG_ENDPOINT_PASSWORD", "s3cret")
    with recording_server() as (elsewhere, seen):
        def redirect(handler):
            handler.send_response(307)
            handler.send_header("Location", elsewhere)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with handler_server(redirect) as url:
            result = kg("stats", "--endpoint", url)
    assert result.exit_code == 2 and "redirected to another address" in result.output
    assert seen == []  # the other port was never asked, so never given the credentials
    assert "s3cret" not in result.output


def test_a_redirect_within_the_same_server_is_followed():
    def respond(handler):
        if handler.path.startswith("/query"):
            handler.send_response(308)
            handler.send_header("Location", "/sparql")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            answer(200, EMPTY_RESULTS, "application/sparql-results+json")(handler)

    with handler_server(respond) as url, RemoteStore(Endpoint.at(url)) as store:
        assert store.graphs() == {}


def test_a_redirect_that_turns_a_put_into_a_get_is_a_failed_load():
    def respond(handler):
        if handler.command == "PUT":
            handler.send_response(302)
            handler.send_header("Location", "/elsewhere")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            answer(200, EMPTY_RESULTS, "application/sparql-results+json")(handler)

    with handler_server(respond) as url:
        result = kg("load", "--no-validate", "--endpoint", url)
    assert result.exit_code == 2
    assert "turns a PUT into a GET" in result.output and "Loaded: none." in result.output


def test_digest_authentication_is_answered_when_the_server_asks_for_it(monkeypatch):
    """Virtuoso's authenticated endpoints challenge with HTTP Digest; kg answers with the same credentials."""
    import hashlib
    import re as regex

    monkeypatch.setenv("KG_ENDPOINT_USER", "dba")
    monkeypatch.setenv("KG_ENDPOINT_PASSWORD", "dba-password")
    accepted = []

    def digest(handler):
        header = handler.headers.get("Authorization", "")
        if header.startswith("Digest "):
            fields = dict(regex.findall(r'(\w+)="?([^",]+)"?', header))
            ha1 = hashlib.md5(b"dba:kg-test:dba-password").hexdigest()
            ha2 = hashlib.md5(f"{handler.command}:{fields['uri']}".encode()).hexdigest()
            expected = hashlib.md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}"
                                   .encode()).hexdigest()
            if fields.get("username") == "dba" and fields.get("response") == expected:
                accepted.append(True)
                return answer(200, EMPTY_RESULTS, "application/sparql-results+json")(handler)
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", 'Digest realm="kg-test", nonce="abc123", qop="auth", algorithm="MD5"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with handler_server(digest) as url:
        result = kg("stats", "--endpoint", url)
    assert result.exit_code == 0, result.output
    assert accepted


def test_refused_credentials_are_not_met_with_advice_to_set_them(monkeypatch):
    monkeypatch.setenv("KG_ENDPOINT_USER", "analyst")
    monkeypatch.setenv("KG_ENDPOINT_PASSWORD", "wrong")
    with handler_server(answer(401, b"no")) as url:
        result = kg("stats", "--endpoint", url)
    assert result.exit_code == 2 and "refused the credentials" in result.output and "wrong" not in result.output
