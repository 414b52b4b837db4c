"""Any SPARQL 1.1 store as kg's store: load with the Graph Store Protocol, query with the
SPARQL 1.1 Protocol, validate what the store holds.

Only the standard protocols are used, so it works with Oxigraph server, Fuseki, GraphDB,
Virtuoso and the rest:

- loading: ``PUT {gsp}?graph=IRI`` per source file (the file streamed as Turtle; PUT
  replaces, so loading twice leaves the store as it was), or, where the server has no
  Graph Store Protocol, one SPARQL Update ``DROP SILENT GRAPH`` + ``INSERT … WHERE {}`` per file;
- querying: the SPARQL 1.1 Protocol with ``default-graph-uri`` set to each of kg's graphs,
  so the stored queries see the union of kg's graphs (and nothing else) even where the
  server's default graph is not that union (Oxigraph's default) or holds more (Virtuoso's);
  but when the store holds kg's graphs only (on Virtuoso: and its own system graphs), the
  server's union instead — Oxigraph server's ``union-default-graph``, Virtuoso's default graph —
  since hundreds of listed graphs made Oxigraph take minutes and Virtuoso run out of memory;
- reading a graph: ``GET {gsp}?graph=IRI``, or a ``CONSTRUCT`` where GSP is missing.

Every failure becomes a :class:`~kg.model.errors.KgError` with one paragraph a person can act
on. All requests go through one ``requests`` session: idempotent ones are retried by
urllib3 with a bounded backoff; each has a total deadline and a size cap on its answer;
redirects are followed only to the same scheme, host and port, never for a write, so
credentials (Basic, or Digest where the server asks for it) go nowhere else.
"""

from __future__ import annotations

import http.client
import json
import netrc
import os
import socket
from collections.abc import Callable, Iterable
from typing import BinaryIO
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import pyoxigraph as ox
import requests
import requests.auth
from rdflib import Graph, Literal, URIRef
from requests.adapters import HTTPAdapter
import urllib3.exceptions
from urllib3.util.retry import Retry

from kg.model.deadline import within
from kg.model.errors import BadInputError, KgError, ValidationFailed
from kg.model.namespaces import BOOKKEEPING_GRAPHS, MANIFEST_GRAPH, RETRACTIONS_GRAPH
from kg.model.rdffiles import FactsFile, read_facts_file, read_turtle, sniff_facts_file
from kg.queries.engines import SelectResult, term_from_oxigraph, too_many_rows
from kg.queries.sparqltext import hinted_subqueries
from kg.stores.base import (LoadReport, display_path, expand_paths, export_format, export_graphs, now_utc,
                            read_manifest, remove_graphs_update, validate_graphs, validate_with_stored)
from kg.validation.validator import ValidationReport

#: Headers accepted in an answer beyond one per graph sent (http.client's own limit).
_MAX_HEADERS = 100
#: The pattern of a graph ?g that kg's manifest records (kg loaded it from a file).
_RECORDED = f"GRAPH <{MANIFEST_GRAPH}> {{ ?g <http://www.w3.org/ns/prov#wasDerivedFrom> ?file }}"
#: Graphs recorded in the manifest per request while loading: a request per graph beside each PUT cost a
#: quarter of a 10 M-triple load into oxigraph serve (401 s against 290 s for the PUTs alone).
RECORDS_PER_REQUEST = 500
#: Any triple of the server's plain default graph (Oxigraph's: empty unless someone wrote there).
_ANY_DEFAULT_TRIPLE = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
#: HTTP statuses worth another try: the server may be restarting or overloaded.
_RETRY_STATUSES = {502, 503, 504}
#: HTTP statuses meaning "no Graph Store Protocol here": fall back to SPARQL Update.
_NO_GSP_STATUSES = {404, 405, 501}
#: Redirects followed (same scheme, host and port only) before giving up.
_MAX_REDIRECTS = 5


class EndpointError(KgError):
    """The endpoint could not be reached or refused a request."""


class PartialLoadError(EndpointError):
    """A multi-file load failed midway: some graphs were replaced, others not."""

    def __init__(self, message: str, loaded: list[str], not_loaded: list[str]):
        super().__init__(message)
        self.loaded = loaded
        self.not_loaded = not_loaded


def redact(url: str) -> str:
    """A URL without any user:password part, for messages.

    >>> redact("http://alice:secret@example.org:3030/ds/sparql")
    'http://example.org:3030/ds/sparql'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _sibling(url: str, name: str) -> str:
    """The URL with its last path segment replaced: /ds/query -> /ds/update."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    base = head if last in ("query", "sparql") else path
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/{name}", "", ""))


#: Where each server keeps its SPARQL Update and Graph Store Protocol endpoints, relative to its
#: query URL: a sibling path segment, or ``None`` for the query URL itself.
SERVERS: dict[str, dict[str, str | None]] = {
    "oxigraph": {"update": "update", "gsp": "store"},  # /query, /update, /store
    "fuseki": {"update": "update", "gsp": "data"},  # /ds/sparql, /ds/update, /ds/data (documented, not tested)
    "virtuoso": {"update": None, "gsp": "sparql-graph-crud"},  # /sparql takes updates; GSP at /sparql-graph-crud
}
#: Text a server's queries begin with. Virtuoso's optimiser reorders joins by estimates that, on
#: kg's queries, cost seconds at demo size (compare-periods 1.8 s); kg's queries are written with
#: the selective pattern first, so Virtuoso is told to keep the written order (0.03 s; the same rows).
QUERY_PREAMBLE = {"virtuoso": 'DEFINE sql:select-option "order"\n'}


def is_virtuoso_system_graph(iri: str) -> bool:
    """Graphs every Virtuoso database keeps for itself: its RDF views (virtrdf#), the LDP vocabulary, its
    SPARQL service description, WebDAV; about Virtuoso's own schemas, never about kg's terms."""
    return iri.startswith(("http://www.openlinksw.com/schemas/", "http://www.w3.org/ns/ldp#",
                           "http://localuriqaserver/")) or urlsplit(iri).path.startswith("/DAV/")


def credentials(url: str) -> tuple[str, str] | None:
    """User and password from ``KG_ENDPOINT_USER``/``KG_ENDPOINT_PASSWORD``, else ``~/.netrc``."""
    user, password = os.environ.get("KG_ENDPOINT_USER"), os.environ.get("KG_ENDPOINT_PASSWORD")
    if user:
        return user, password or ""
    host = urlsplit(url).hostname
    try:
        entry = netrc.netrc().authenticators(host) if host else None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        entry = None
    if entry:
        return entry[0] or "", entry[2] or ""
    return None


@dataclass(frozen=True)
class Endpoint:
    """Where a remote store answers.

    Attributes:
        query_url: The SPARQL query endpoint (Oxigraph ``/query``, Fuseki ``/ds/sparql``).
        update_url: The SPARQL Update endpoint; by default the query URL's sibling ``update``.
        gsp_url: The Graph Store Protocol endpoint; by default the sibling ``store``
            (Oxigraph's name; Fuseki's is ``/ds/data``).
        timeout: Seconds one request may take in all, answer included (a server that
            drips its answer does not extend it).
        retries: How many times an idempotent request is tried again.
        max_answer_bytes: The largest answer kg reads; a larger one is an error.
        server: Which server it is, if said (a key of :data:`SERVERS`): its queries then begin
            with what that server needs (:data:`QUERY_PREAMBLE`).

    >>> e = Endpoint.at("http://127.0.0.1:7878/query")
    >>> e.update_url, e.gsp_url
    ('http://127.0.0.1:7878/update', 'http://127.0.0.1:7878/store')
    """

    query_url: str
    update_url: str
    gsp_url: str
    timeout: float = 30.0
    retries: int = 2
    gsp_given: bool = False
    max_answer_bytes: int = 512 * 2**20
    server: str | None = None

    @classmethod
    def at(cls, query_url: str, *, gsp_url: str | None = None, update_url: str | None = None,
           timeout: float = 30.0, retries: int = 2, server: str | None = None) -> Endpoint:
        """Where a store answers, the update and Graph Store URLs derived from the query URL.

        Args:
            server: Which server it is (a key of :data:`SERVERS`), for where it keeps its
                update and Graph Store endpoints; by default Oxigraph's layout.

        >>> e = Endpoint.at("http://127.0.0.1:8890/sparql", server="virtuoso")
        >>> e.update_url, e.gsp_url
        ('http://127.0.0.1:8890/sparql', 'http://127.0.0.1:8890/sparql-graph-crud')
        """
        if urlsplit(query_url).scheme not in ("http", "https"):
            raise BadInputError(f"--endpoint must be an http(s) URL of a SPARQL query endpoint, not {query_url!r}.")
        if server is not None and server not in SERVERS:
            raise BadInputError(f"Unknown server {server!r}; kg knows {', '.join(SERVERS)} (or give --update-endpoint "
                                "and --gsp-endpoint).")
        layout = SERVERS[server or "oxigraph"]
        derive = lambda name: query_url if name is None else _sibling(query_url, name)
        return cls(
            query_url=query_url,
            update_url=update_url or derive(layout["update"]),
            gsp_url=gsp_url or derive(layout["gsp"]),
            timeout=timeout,
            retries=retries,
            gsp_given=gsp_url is not None,
            server=server,
        )

    @property
    def auth(self) -> tuple[str, str] | None:
        return credentials(self.query_url)


class RemoteStore:
    """A SPARQL 1.1 store reached over HTTP, with the same operations as :class:`~kg.stores.oxigraph.FactStore`.

    Args:
        endpoint: Where the store answers.
    """

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.session = _session(endpoint, retries=endpoint.retries)
        self._once = _session(endpoint, retries=0)  # for requests that must not be repeated
        self.server_header = ""  # as the server last named itself

    def close(self) -> None:
        self.session.close()
        self._once.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- HTTP with clear errors --------------------------------------------------------

    def _request(self, method: str, url: str, *, what: str, retry: bool = True, **kwargs) -> Answer:
        """One HTTP exchange, answer read whole, within ``timeout`` seconds in all, retries and a dripping server included.

        Retries (502/503/504, refused connections) come from urllib3's ``Retry``; redirects are
        followed only within the same scheme, host and port, and never for a write, so
        credentials go nowhere else; the answer is read up to ``max_answer_bytes``.
        """
        return within(self.endpoint.timeout, lambda: self._exchange(method, url, what=what, retry=retry, **kwargs),
                      timed_out=lambda: _timeout_error(what, url, self.endpoint.timeout))

    def _exchange(self, method: str, url: str, *, what: str, retry: bool, **kwargs) -> Answer:
        session = self.session if retry else self._once
        for _ in range(_MAX_REDIRECTS + 1):
            body = kwargs.get("data")
            if hasattr(body, "seek"):
                body.seek(0)
            try:
                response = session.request(method, url, timeout=self.endpoint.timeout, stream=True,
                                           allow_redirects=False, **kwargs)
            except requests.exceptions.Timeout:
                raise _timeout_error(what, url, self.endpoint.timeout) from None
            except requests.exceptions.RetryError as exc:
                raise EndpointError(f"{what}: {redact(url)} kept failing after {self.endpoint.retries} retries "
                                    f"({_reason(exc)}).") from None
            except requests.exceptions.ConnectionError as exc:
                reason = _reason(exc)
                # NewConnectionError (refused, DNS) is a ConnectTimeoutError in urllib3: test it first.
                if not isinstance(reason, urllib3.exceptions.NewConnectionError) and \
                        isinstance(reason, (TimeoutError, socket.timeout, urllib3.exceptions.TimeoutError)):
                    raise _timeout_error(what, url, self.endpoint.timeout) from None
                raise EndpointError(_connection_message(what, url, reason)) from None
            with response:
                if response.status_code == 401 and self._switch_to_digest(response):
                    continue
                if response.is_redirect:
                    url = self._redirect(method, url, response, what)
                    continue
                content = _read_capped(response, self.endpoint.max_answer_bytes, what, url)
                answer = Answer(response.status_code, response.reason, response.headers.get("Content-Type", ""), content)
                self.server_header = response.headers.get("Server") or self.server_header
                cut_at = response.headers.get(_CUT_AT_HEADER)
            if answer.status >= 400:
                raise _http_error(what, url, answer, credentials_given=self.session.auth is not None)
            if cut_at is not None:
                raise _cut_error(what, url, cut_at)
            return answer
        raise EndpointError(f"{what}: {redact(url)} redirected more than {_MAX_REDIRECTS} times.")

    def _redirect(self, method: str, url: str, response: requests.Response, what: str) -> str:
        target = urljoin(url, response.headers.get("Location", ""))
        here, there = urlsplit(url), urlsplit(target)
        if (here.scheme, here.hostname, here.port) != (there.scheme, there.hostname, there.port):
            raise EndpointError(
                f"{what}: {redact(url)} redirected to another address, {redact(target)}. kg does not follow a redirect "
                "to another scheme, host or port (your credentials would go there, and answers would come from "
                "there); if you trust it, give that URL with --endpoint."
            )
        if method != "GET" and response.status_code not in (307, 308):
            raise EndpointError(
                f"{what}: {redact(url)} answered {response.status_code} {response.reason}, a redirect that turns a "
                f"{method} into a GET: nothing was written or asked. Give the URL it redirects to, {redact(target)}."
            )
        return target

    def _switch_to_digest(self, response: requests.Response) -> bool:
        """Answer a Digest challenge (Virtuoso's authenticated endpoints) with the same credentials, once.

        Virtuoso answers credentials sent as Basic with a bare 401, no challenge at all: that too is
        answered with Digest once (requests then reads the challenge of the unauthenticated request).
        """
        challenge = response.headers.get("WWW-Authenticate", "")
        credentials_ = self.endpoint.auth
        if credentials_ and (not challenge or challenge.lower().startswith("digest")) and not isinstance(
                self.session.auth, requests.auth.HTTPDigestAuth):
            self.session.auth = self._once.auth = requests.auth.HTTPDigestAuth(*credentials_)
            return True
        return False

    # --- reading ------------------------------------------------------------------------

    def select(self, sparql: str, *, default_graphs: Iterable[str] = (), union: bool = False) -> SelectResult:
        """Run a SELECT query with the SPARQL 1.1 Protocol; the default graph is the merge of ``default_graphs``
        (or, with ``union``, Oxigraph server's union of every graph in the store)."""
        what = "Querying the endpoint"
        sparql = QUERY_PREAMBLE.get(self.endpoint.server or "", "") + sparql
        dataset = [("union-default-graph", "")] if union else [("default-graph-uri", graph) for graph in default_graphs]
        form = urlencode([("query", sparql), *dataset])
        # Virtuoso echoes each default graph as an X-SPARQL-default-graph header; Python's HTTP client refuses an
        # answer with more than 100 headers. Allowed as many as graphs were sent, and no more.
        http.client._MAXHEADERS = _MAX_HEADERS + len(dataset)
        # The charset said outright: Virtuoso reads an unlabelled form as Latin-1 ("→" came back as "?").
        answer = self._request("POST", self.endpoint.query_url, what=what, data=form.encode("ascii"),
                               headers={"Accept": "application/sparql-results+json",
                                        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        try:
            try:
                parsed = _select_result(answer.content)
            except SyntaxError as exc:
                if "bnode" not in str(exc).lower():
                    raise
                # Virtuoso names blank nodes "nodeID://b10006", which the results format's parser refuses.
                parsed = _select_result(_blank_nodes_renamed(answer.content))
        except (SyntaxError, ValueError, OSError) as exc:
            raise EndpointError(
                f"{what}: the answer from {redact(self.endpoint.query_url)} is not SPARQL JSON results ({exc}); "
                "is the URL the store's SPARQL query endpoint?"
            ) from None
        if parsed is None:
            raise EndpointError(f"{what}: {redact(self.endpoint.query_url)} answered a boolean to a SELECT query.")
        return parsed

    def graphs(self) -> dict[str, int]:
        """Triples per graph kg keeps there: those its manifest records, and its retractions.

        Other graphs in the same store (a server's system graphs, someone else's data) are
        not kg's: never counted, queried, validated or exported as its own.
        """
        result = self.select(f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
            {_RECORDED}
            GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g ORDER BY ?g""")
        retractions = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{RETRACTIONS_GRAPH}> {{ ?s ?p ?o }} }}")
        try:
            counts = {str(g): int(n) for g, n in result.rows if isinstance(g, URIRef) and g not in BOOKKEEPING_GRAPHS}
            if retractions.rows and int(retractions.rows[0][0]):
                counts[str(RETRACTIONS_GRAPH)] = int(retractions.rows[0][0])
            return dict(sorted(counts.items()))
        except (TypeError, ValueError):
            raise EndpointError(f"Counting the graphs: {redact(self.endpoint.query_url)} answered a count that is not a "
                                "number; the server's answer cannot be trusted.") from None

    def file_hashes(self) -> dict[str, str]:
        """The SHA-256 of the file each graph was loaded from, where the store's manifest graph records it."""
        rows = self.select(f"SELECT ?g ?id WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ ?g <http://purl.org/dc/terms/identifier> ?id }} }}").rows
        return {str(g): str(i)[len("sha256:"):] for g, i in rows if str(i).startswith("sha256:")}

    def graph(self, iri: str) -> Graph:
        """One named graph, fetched with GSP GET (or CONSTRUCT where GSP is missing)."""
        return _triples(self._graph_answer(iri), f"Reading graph <{iri}>", self.endpoint.gsp_url)

    def _graph_answer(self, iri: str) -> Answer:
        """One named graph as the server sends it (N-Triples), whole."""
        try:
            return self._request("GET", self.endpoint.gsp_url, what=f"Reading graph <{iri}>", params={"graph": iri},
                                 headers={"Accept": "application/n-triples"})
        except _NoGraphStore:
            # Only where the server has no Graph Store Protocol; a refusal (401, 403, 500…) is an error.
            if self.endpoint.gsp_given:
                raise
        return self._construct_answer(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
                                      what=f"Reading graph <{iri}>")

    def _validate_with(self, files: list[FactsFile], graphs: dict[str, int], *,
                       part_bytes: int | None = None) -> ValidationReport:
        """Validate files together with some of the server's graphs (IRI → triples), in parts when that is large:
        each graph is then written to a temporary file as the server sends it, never held whole in memory."""
        def dump(iri: str, path: Path) -> None:
            path.write_bytes(self._graph_answer(iri).content)

        return validate_with_stored(files, graphs, read=self.graph, dump=dump, part_bytes=part_bytes)

    def graph_names(self) -> list[str]:
        """The graphs kg keeps there (as :meth:`graphs`, without counting their triples)."""
        # EXISTS stops at a graph's first triple, where a join would read them all.
        rows = self.select(f"""SELECT DISTINCT ?g WHERE {{
            {{ {_RECORDED} }} UNION {{ BIND (<{RETRACTIONS_GRAPH}> AS ?g) }}
            FILTER EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }}""").rows
        return sorted(str(g) for g, in rows if isinstance(g, URIRef) and g not in BOOKKEEPING_GRAPHS)

    def _unrecorded_graphs(self, *, oxigraph: bool) -> set[str]:
        """The graphs in the store that kg's manifest does not record (other than kg's bookkeeping): one request."""
        # Oxigraph lists its graphs for GRAPH ?g {}; Virtuoso answers a DISTINCT over every quad slowly, a GROUP BY fast.
        every = "GRAPH ?g { }" if oxigraph else "{ SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g }"
        rows = self.select(f"""SELECT ?g WHERE {{ {every}
            FILTER NOT EXISTS {{ {_RECORDED} }} }}""").rows
        return {str(g) for g, in rows} - {*map(str, BOOKKEEPING_GRAPHS), str(RETRACTIONS_GRAPH)}

    @property
    def engine(self) -> RemoteEngine:
        """An engine whose default graph is the union of kg's graphs in the store.

        Listed graph by graph (``default-graph-uri``), except where the server's own union holds
        nothing else that a query of kg's could meet — hundreds of listed graphs made Oxigraph
        server take minutes on some queries, and Virtuoso run out of memory on ``disagreements``:

        - Oxigraph server holding kg's graphs only, its plain default graph empty: its
          ``union-default-graph``, the very graphs the embedded store queries;
        - Virtuoso holding kg's graphs and its own system graphs only: its default graph, the
          union of all; the system graphs describe Virtuoso's schemas, never kg's terms, so the
          stored queries answer the same (tested). Virtuoso's ``input:default-graph-exclude``
          would leave them out, but fails on kg's queries ("Stack Overflow in cost model").

        Deciding costs one or two small requests per engine (each query's), not a list of kg's graphs.
        """
        # Asked only where Oxigraph may be answering; for a server not named, the answer names it too.
        default_rows = self.select(_ANY_DEFAULT_TRIPLE).rows if self.endpoint.server in (None, "oxigraph") else None
        server = self.endpoint.server or ("oxigraph" if self.server_header.startswith("Oxigraph/") else None)
        if server == "oxigraph":
            if not default_rows and not self._unrecorded_graphs(oxigraph=True):
                return RemoteEngine(self, [], union=True, oxigraph=True)
        elif server == "virtuoso":
            if all(is_virtuoso_system_graph(g) for g in self._unrecorded_graphs(oxigraph=False)):
                return RemoteEngine(self, [])
        return RemoteEngine(self, self.graph_names(), oxigraph=server == "oxigraph")

    def validate(self, graphs: Iterable[str] | None = None, *, part_bytes: int | None = None) -> ValidationReport:
        """Validate what the store holds: all of kg's graphs, or the given ones with what they depend on.

        A large store is validated in parts, as the embedded one is (:func:`kg.stores.base.validate_with_stored`).

        A graph is checked together with the ontology, the reference data (every graph that is
        not a source's) and the sources it points into; the report keeps the problems of the
        given graphs' own nodes only, so it says of them what a whole validation would.

        Raises:
            BadInputError: A given graph is not one of kg's graphs in the store.
        """
        if graphs:
            return validate_graphs(self, graphs)
        return self._validate_with([], self.graphs(), part_bytes=part_bytes)

    # --- writing ------------------------------------------------------------------------

    def load(
        self,
        paths: Iterable[str | Path] | None = None,
        *,
        check: bool = True,
        progress: Callable[[str], None] | None = None,
        records: dict[str, str] | None = None,
    ) -> LoadReport:
        """Validate files, then put each into its own named graph on the server.

        Args:
            records: SPARQL Update text sent with each graph's manifest record, by graph IRI
                (the history of a replaced source).

        Raises:
            ValidationFailed: Nothing was sent.
            PartialLoadError: The load failed midway; the message names the graphs loaded
                and those not. Running the same load again completes it.
        """
        step = progress or (lambda description: None)
        files: list[FactsFile] = []
        for path in expand_paths(paths):
            step(f"reading {path}")
            files.append(read_facts_file(path) if check else sniff_facts_file(path))
        if not files:
            raise BadInputError("No files to load.")
        names = {str(f.graph_iri) for f in files}
        if len(names) != len(files):
            raise BadInputError("Two of the files describe the same source; each source must be in one file.")
        if check:
            step("validating")
            report = self._validate_with(files, {iri: n for iri, n in self.graphs().items() if iri not in names})
            if not report.conforms:
                raise ValidationFailed(report)
        else:
            step("not validating")
            report = ValidationReport(True, Graph(), "not validated")
        step("writing")
        self.write(files, records=records)
        return LoadReport(
            validation=report,
            graphs={str(f.graph_iri): f.size for f in files},
            files={str(f.graph_iri): display_path(f.path) for f in files},
        )

    def export(self, format: str = "trig", *, output: BinaryIO | None = None) -> bytes | None:
        """Serialise kg's graphs on the server (named graphs kept in ``trig``, ``nquads`` and ``jsonld``), read graph by graph."""
        export_format(format)  # an unknown format is refused before anything is read
        return export_graphs(((iri, self.graph(iri)) for iri in self.graphs()), format, output=output)

    def construct(self, sparql: str) -> Graph:
        """Run a CONSTRUCT query on the server into an rdflib graph."""
        return _triples(self._construct_answer(sparql, what="Querying the endpoint"), "Querying the endpoint",
                        self.endpoint.query_url)

    def _construct_answer(self, sparql: str, *, what: str) -> Answer:
        """A CONSTRUCT query's answer as the server sends it (N-Triples)."""
        return self._request("POST", self.endpoint.query_url, what=what, data={"query": sparql},
                             headers={"Accept": "application/n-triples"})

    def describe(self, iris: list[URIRef], *, exclude_graphs: Iterable[URIRef] = (), depth: int = 2) -> Graph:
        """The triples of each IRI in every graph but the excluded ones, with blank-node details to ``depth``
        levels, as the embedded store gives them (one CONSTRUCT per 500 IRIs)."""
        graph = Graph()
        excluded = sorted(set(exclude_graphs) | set(BOOKKEEPING_GRAPHS))
        exclude = f"FILTER (?g NOT IN ({', '.join(g.n3() for g in excluded)}))"
        template, pattern = ["?s ?p ?o ."], ""
        for level in range(depth, 0, -1):  # nested from the innermost blank node out
            node = "?o" if level == 1 else f"?o{level - 1}"
            pattern = f" OPTIONAL {{ FILTER (isBlank({node})) {node} ?p{level} ?o{level} .{pattern} }}"
            template.append(f"{node} ?p{level} ?o{level} .")
        for start in range(0, len(iris), 500):
            values = " ".join(iri.n3() for iri in iris[start : start + 500])
            graph += self.construct(f"""
                CONSTRUCT {{ {" ".join(template)} }} WHERE {{
                  VALUES ?s {{ {values} }}
                  GRAPH ?g {{ ?s ?p ?o .{pattern} }}
                  {exclude}
                }}""")
        return graph

    def write(self, files: list[FactsFile], *, progress: Callable[[str], None] | None = None,
              records: dict[str, str] | None = None) -> None:
        """Put already-validated files, each into its graph, one request per file; record them in the manifest
        :data:`RECORDS_PER_REQUEST` at a time.

        Args:
            records: SPARQL Update text sent with each graph's manifest record, by graph IRI
                (the history of a replaced source, :func:`kg.services.lifecycle.history_records`).

        Raises:
            PartialLoadError: A request failed after others succeeded.
        """
        step = progress or (lambda description: None)
        loaded: list[str] = []
        sent: list[FactsFile] = []

        def record() -> None:
            if sent:
                self._record(sent, records or {})
                loaded.extend(str(facts.graph_iri) for facts in sent)
                sent.clear()

        try:
            for facts in files:
                step(f"sending {facts.path}")
                self._put(facts)
                sent.append(facts)
                if len(sent) >= RECORDS_PER_REQUEST:
                    record()
            record()
        except EndpointError as error:
            try:
                record()  # the graphs sent before the failure: loaded once recorded
            except EndpointError:
                pass
            not_loaded = [str(f.graph_iri) for f in files if str(f.graph_iri) not in loaded]
            raise PartialLoadError(
                f"{error}\nLoaded: {', '.join(loaded) or 'none'}.\nNot loaded: {', '.join(not_loaded)}.\n"
                "Each graph is replaced whole, so running the same command again completes the load.",
                loaded, not_loaded,
            ) from None

    def _put(self, facts: FactsFile) -> None:
        what = f"Loading {facts.path} into <{facts.graph_iri}>"
        with open(facts.path, "rb") as body:
            try:
                self._request("PUT", self.endpoint.gsp_url, what=what, params={"graph": str(facts.graph_iri)},
                              data=body, headers={"Content-Type": "text/turtle; charset=utf-8"})
                return
            except _NoGraphStore:
                if self.endpoint.gsp_given:
                    raise EndpointError(f"{what}: {redact(self.endpoint.gsp_url)} offers no Graph Store Protocol.") from None
        # No Graph Store Protocol: one SPARQL Update request replaces the graph atomically. INSERT … WHERE {}
        # rather than INSERT DATA: Virtuoso refuses blank nodes in INSERT DATA.
        graph = facts.graph if len(facts.graph) else read_turtle(facts.path)
        triples = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
        update = f"DROP SILENT GRAPH <{facts.graph_iri}> ;\nINSERT {{ GRAPH <{facts.graph_iri}> {{\n{triples}}} }} WHERE {{}}"
        self._request("POST", self.endpoint.update_url, what=what, data=update.encode("utf-8"),
                      headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def _record(self, files: list[FactsFile], records: dict[str, str]) -> None:
        """Record in the store's manifest graph the file each graph came from, its SHA-256, and when (as the
        embedded store does), with each graph's ``records`` text: one request, one transaction on the server."""
        from kg.stores.hashing import file_sha256

        manifest, dc = f"<{MANIFEST_GRAPH}>", "http://purl.org/dc/terms/"
        now = f'"{now_utc()}"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
        graphs = " ".join(f"<{facts.graph_iri}>" for facts in files)
        described = " ".join(
            f"<{facts.graph_iri}> <http://www.w3.org/ns/prov#wasDerivedFrom> {Literal(display_path(facts.path)).n3()} ; "
            f"<{dc}identifier> \"sha256:{file_sha256(facts.path)}\" ; <{dc}modified> {now} ." for facts in files)
        update = (
            f"DELETE {{ GRAPH {manifest} {{ ?g ?p ?o }} }} WHERE {{ VALUES ?g {{ {graphs} }} GRAPH {manifest} {{ ?g ?p ?o "
            f"FILTER (?p != <{dc}created>) }} }} ;\n"
            f"INSERT DATA {{ GRAPH {manifest} {{ {described} }} }} ;\n"
            f"INSERT {{ GRAPH {manifest} {{ ?g <{dc}created> {now} }} }} WHERE {{ VALUES ?g {{ {graphs} }} "
            f"FILTER NOT EXISTS {{ GRAPH {manifest} {{ ?g <{dc}created> ?c }} }} }}")
        for facts in files:
            if records.get(str(facts.graph_iri)):
                update += " ;\n" + records[str(facts.graph_iri)]
        what = f"Recording <{files[0].graph_iri}>" + (f" and {len(files) - 1} more graphs" if len(files) > 1 else "")
        self._request("POST", self.endpoint.update_url, what=f"{what} in the manifest",
                      data=update.encode("utf-8"), headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def update(self, sparql: str, *, what: str = "Updating the store") -> None:
        """Run one SPARQL Update request (one transaction on the server); never retried."""
        self._request("POST", self.endpoint.update_url, what=what, data=sparql.encode("utf-8"),
                      retry=False, headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def remove(self, graph_iri: str) -> None:
        """Remove one named graph and its manifest record."""
        self.remove_graphs([graph_iri])

    def remove_graphs(self, graph_iris: list[str]) -> None:
        """Remove named graphs and their manifest records with one SPARQL Update (one transaction on the server)."""
        self.update(remove_graphs_update(graph_iris), what=f"Removing {', '.join(f'<{g}>' for g in graph_iris)}")

    def manifest(self) -> dict[str, dict[str, str]]:
        """What the store's manifest graph records of each graph (file, sha256, added, changed)."""
        return read_manifest(self.select)

    def files(self) -> dict[str, str]:
        """The file each graph was loaded from, by graph IRI."""
        return {graph: record["file"] for graph, record in self.manifest().items() if "file" in record}


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read whole (within the size cap)."""

    status: int
    reason: str
    content_type: str
    content: bytes


#: Virtuoso sends this header, with its ResultSetMaxRows, when it cut an answer short: silently, otherwise.
_CUT_AT_HEADER = "X-SPARQL-MaxRows"


def _cut_error(what: str, url: str, cut_at: str) -> EndpointError:
    """An answer the server cut at its own row limit: never used as if it were whole."""
    return EndpointError(
        f"{what}: {redact(url)} cut its answer at {cut_at} rows, its own limit (Virtuoso's "
        "ResultSetMaxRows), so what came back is not the whole answer and kg does not use it. Ask for less at a "
        "time (kg query … --limit N --offset M, N below that limit), or raise ResultSetMaxRows in the [SPARQL] "
        "section of virtuoso.ini."
    )


def _session(endpoint: Endpoint, *, retries: int) -> requests.Session:
    """One session for every request to the endpoint: credentials, and urllib3's bounded retries with backoff."""
    session = requests.Session()
    session.auth = endpoint.auth
    session.trust_env = False  # no proxies or .netrc rewriting from the environment for a store the user names
    retry = Retry(total=retries, connect=retries, read=0, redirect=0, status=retries, backoff_factor=0.25,
                  status_forcelist=sorted(_RETRY_STATUSES), allowed_methods=None, raise_on_status=False,
                  respect_retry_after_header=False)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _NoGraphStore(EndpointError):
    """The GSP URL answered as if there were no Graph Store Protocol there."""


class RemoteEngine:
    """Runs queries on a remote store with the union of its named graphs as default graph."""

    name = "endpoint"

    def __init__(self, store: RemoteStore, default_graphs: list[str], *, union: bool = False, oxigraph: bool = False):
        self.store = store
        self.default_graphs = default_graphs  # none: the server's own default graph (Virtuoso's union of all)
        self.union = union  # Oxigraph server's union-default-graph: the store holds kg's graphs only
        self.oxigraph = oxigraph  # ``# kg:subquery begin``…``end`` sent as a subquery (queries/README.md)

    def select(self, sparql: str, *, max_rows: int | None = None) -> SelectResult:
        if self.oxigraph:
            sparql = hinted_subqueries(sparql)
        result = self.store.select(sparql, default_graphs=self.default_graphs, union=self.union)
        if max_rows is not None and len(result.rows) > max_rows:
            raise too_many_rows(max_rows)
        return result


def _timeout_error(what: str, url: str, timeout: float) -> EndpointError:
    return EndpointError(f"{what}: {redact(url)} gave no answer within {timeout:g} s. The server may be overloaded "
                         "or the request too heavy; raise --timeout or try again later.")


def _connection_message(what: str, url: str, exc) -> str:
    text = str(exc)
    host = urlsplit(url).hostname
    if isinstance(exc, socket.gaierror) or "Name or service not known" in text or "NameResolution" in text \
            or "getaddrinfo failed" in text or "nodename nor servname" in text:
        return f"{what}: the host name {host!r} cannot be resolved (DNS failure). Check the URL {redact(url)}."
    if "refused" in text.lower():
        return (f"{what}: the connection to {redact(url)} was refused: no server is listening there. "
                "Is the store running, and is the port right?")
    return f"{what}: cannot connect to {redact(url)} ({type(exc).__name__}). Is the store running and reachable?"


def _http_error(what: str, url: str, answer: Answer, *, credentials_given: bool) -> EndpointError:
    said = answer.content[:500].decode("utf-8", "replace").strip()
    if answer.status == 413:
        return EndpointError(
            f"{what}: {redact(url)} answered 413 Payload Too Large: the graph is above the server's request size "
            f"limit. Raise the limit on the server, or split the source file. Server says: {said or '(nothing)'}"
        )
    if answer.status in (401, 403):
        advice = ("The server refused the credentials kg sent (from KG_ENDPOINT_USER / KG_ENDPOINT_PASSWORD or "
                  "~/.netrc): check them, and that this user may use this endpoint (Virtuoso: GRANT SPARQL_UPDATE "
                  "for loading)." if credentials_given else
                  "Set KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, or add the host to ~/.netrc.")
        return EndpointError(f"{what}: {redact(url)} answered {answer.status} {answer.reason}. {advice}")
    if answer.status == 404 and "query" in what.lower():
        return EndpointError(
            f"{what}: {redact(url)} answered 404 Not Found. Is this the SPARQL query endpoint (e.g. "
            "http://host:7878/query for Oxigraph, http://host:3030/DATASET/sparql for Fuseki)?"
        )
    if answer.status == 400 and "query" in what.lower():
        return EndpointError(f"{what}: the server rejected the query as malformed: {' '.join(said.split())}")
    cls = _NoGraphStore if answer.status in _NO_GSP_STATUSES else EndpointError
    return cls(f"{what}: {redact(url)} answered HTTP {answer.status} {answer.reason}. Server says: {said or '(nothing)'}")


def _read_capped(response: requests.Response, limit: int, what: str, url: str) -> bytes:
    """The answer's body, streamed, at most ``limit`` bytes; more is an error (memory stays bounded)."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(1 << 16):
            size += len(chunk)
            if size > limit:
                raise EndpointError(
                    f"{what}: the answer from {redact(url)} is larger than {limit // 2**20} MB, kg's limit for one "
                    "answer; kg stopped reading it. Ask for less (a narrower query, one graph at a time)."
                )
            chunks.append(chunk)
    except requests.exceptions.RequestException as exc:
        raise EndpointError(_connection_message(what, url, _reason(exc))) from None
    return b"".join(chunks)


def _select_result(content: bytes) -> SelectResult | None:
    """SPARQL JSON results read whole (pyoxigraph's parser); ``None`` for a boolean answer."""
    solutions = ox.parse_query_results(content, format=ox.QueryResultsFormat.JSON)
    if not isinstance(solutions, ox.QuerySolutions):
        return None
    variables = [v.value for v in solutions.variables]
    return SelectResult(variables, [tuple(term_from_oxigraph(row[v]) for v in variables) for row in solutions])


def _blank_nodes_renamed(content: bytes) -> bytes:
    """The results with every blank node label made a plain one (the same label, the same node).

    >>> _blank_nodes_renamed(b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"bnode","value":"nodeID://b1"}}]}}')
    b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s": {"type": "bnode", "value": "bfb0b4507dd5ea16e"}}]}}'
    """
    import hashlib

    data = json.loads(content)
    for binding in data.get("results", {}).get("bindings", []):
        for term in binding.values():
            if isinstance(term, dict) and term.get("type") == "bnode":
                term["value"] = "b" + hashlib.sha256(str(term.get("value")).encode("utf-8")).hexdigest()[:16]
    return json.dumps(data).encode("utf-8")


def _triples(answer: Answer, what: str, url: str) -> Graph:
    try:
        return Graph().parse(data=answer.content.decode("utf-8"), format="nt")
    except Exception:  # rdflib raises several types for malformed N-Triples
        raise EndpointError(f"{what}: the answer from {redact(url)} is not N-Triples.") from None


def _reason(exc: BaseException) -> BaseException:
    """The innermost cause of a requests/urllib3 error (DNS failure, refused connection…)."""
    seen = exc
    for _ in range(8):
        inner = getattr(seen, "reason", None) or (seen.args[0] if seen.args and isinstance(seen.args[0], BaseException)
                                                 else None)
        if not isinstance(inner, BaseException) or inner is seen:
            break
        seen = inner
    return seen
