"""Any SPARQL 1.1 store as kg's store: load with the Graph Store Protocol, query with
SPARQLWrapper, validate what the store holds.

Only the standard protocols are used, so it works with Oxigraph server, Fuseki, GraphDB,
Virtuoso and the rest:

- loading: ``PUT {gsp}?graph=IRI`` per source file (the file streamed as Turtle; PUT
  replaces, so loading twice leaves the store as it was), or, where the server has no
  Graph Store Protocol, one SPARQL Update ``DROP SILENT GRAPH`` + ``INSERT DATA`` per file;
- querying: the SPARQL 1.1 Protocol with ``default-graph-uri`` set to every named graph,
  so the stored queries see the union of the graphs even where the server's default
  graph is not that union (Oxigraph's default);
- reading a graph: ``GET {gsp}?graph=IRI``, or a ``CONSTRUCT`` where GSP is missing.

Every failure becomes a :class:`~kg.errors.KgError` with one paragraph a person can act
on; idempotent requests are retried with a bounded backoff.
"""

from __future__ import annotations

import json
import netrc
import os
import socket
import time
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from rdflib import BNode, Graph, Literal, URIRef
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper import SPARQLExceptions

from kg.engines import SelectResult
from kg.errors import BadInputError, KgError, ValidationFailed
from kg.rdffiles import FactsFile, read_facts_file, read_turtle, sniff_facts_file
from kg.store import LoadReport, display_path, expand_paths
from kg.validate import ValidationReport, validate

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: HTTP statuses worth another try: the server may be restarting or overloaded.
_RETRY_STATUSES = {502, 503, 504}
#: HTTP statuses meaning "no Graph Store Protocol here": fall back to SPARQL Update.
_NO_GSP_STATUSES = {404, 405, 501}


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
        timeout: Seconds to wait for each request.
        retries: How many times an idempotent request is tried again.

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

    @classmethod
    def at(cls, query_url: str, *, gsp_url: str | None = None, update_url: str | None = None,
           timeout: float = 30.0, retries: int = 2) -> Endpoint:
        if urlsplit(query_url).scheme not in ("http", "https"):
            raise BadInputError(f"--endpoint must be an http(s) URL of a SPARQL query endpoint, not {query_url!r}.")
        return cls(
            query_url=query_url,
            update_url=update_url or _sibling(query_url, "update"),
            gsp_url=gsp_url or _sibling(query_url, "store"),
            timeout=timeout,
            retries=retries,
            gsp_given=gsp_url is not None,
        )

    @property
    def auth(self) -> tuple[str, str] | None:
        return credentials(self.query_url)


class RemoteStore:
    """A SPARQL 1.1 store reached over HTTP, with the same operations as :class:`~kg.store.FactStore`.

    Args:
        endpoint: Where the store answers.
    """

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.session = requests.Session()
        self.session.auth = endpoint.auth
        self.session.trust_env = False  # no proxies from the environment for a store the user names

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- HTTP with clear errors --------------------------------------------------------

    def _request(self, method: str, url: str, *, what: str, retry: bool = True, **kwargs) -> requests.Response:
        attempts = 1 + (self.endpoint.retries if retry else 0)
        for attempt in range(attempts):
            body = kwargs.get("data")
            if hasattr(body, "seek"):
                body.seek(0)
            try:
                response = self.session.request(method, url, timeout=self.endpoint.timeout, **kwargs)
            except requests.exceptions.Timeout:
                error = _timeout_error(what, url, self.endpoint.timeout)
            except requests.exceptions.ConnectionError as exc:
                error = EndpointError(_connection_message(what, url, exc))
            else:
                if response.status_code < 400:
                    return response
                error = _http_error(what, url, response)
                if response.status_code not in _RETRY_STATUSES:
                    raise error
            if attempt + 1 < attempts:
                time.sleep(min(0.25 * 2**attempt, 2.0))
        raise error

    # --- reading ------------------------------------------------------------------------

    def select(self, sparql: str, *, default_graphs: Iterable[str] = ()) -> SelectResult:
        """Run a SELECT query through SPARQLWrapper; the default graph is the merge of ``default_graphs``."""
        wrapper = SPARQLWrapper(self.endpoint.query_url)
        wrapper.setMethod(POST)
        wrapper.setReturnFormat(JSON)
        wrapper.setTimeout(max(1, int(self.endpoint.timeout)))
        wrapper.setQuery(sparql)
        for graph in default_graphs:
            wrapper.addDefaultGraph(graph)
        if self.endpoint.auth:
            wrapper.setCredentials(*self.endpoint.auth)
        what = "Querying the endpoint"
        for attempt in range(1 + self.endpoint.retries):
            try:
                answer = wrapper.query()
                data = json.loads(answer.response.read().decode("utf-8"))
                return _parse_results(data)
            except SPARQLExceptions.QueryBadFormed as exc:
                raise EndpointError(f"{what}: the server rejected the query as malformed: {_server_says(exc)}") from None
            except SPARQLExceptions.EndPointNotFound:
                raise EndpointError(
                    f"{what}: {redact(self.endpoint.query_url)} answered 404 Not Found. Is this the SPARQL query "
                    "endpoint (e.g. http://host:7878/query for Oxigraph, http://host:3030/DATASET/sparql for Fuseki)?"
                ) from None
            except SPARQLExceptions.Unauthorized:
                raise EndpointError(
                    f"{what}: {redact(self.endpoint.query_url)} answered 401 Unauthorized. Set KG_ENDPOINT_USER and "
                    "KG_ENDPOINT_PASSWORD, or add the host to ~/.netrc."
                ) from None
            except SPARQLExceptions.SPARQLWrapperException as exc:
                error = EndpointError(f"{what}: {redact(self.endpoint.query_url)} failed: {_server_says(exc)}")
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
                raise EndpointError(
                    f"{what}: the answer from {redact(self.endpoint.query_url)} is not SPARQL JSON results "
                    f"({type(exc).__name__}); is the URL the store's SPARQL query endpoint?"
                ) from None
            except (TimeoutError, socket.timeout):
                error = _timeout_error(what, self.endpoint.query_url, self.endpoint.timeout)
            except urllib.error.HTTPError as exc:
                error = EndpointError(f"{what}: {redact(self.endpoint.query_url)} answered HTTP {exc.code}: "
                                      f"{exc.read()[:500].decode('utf-8', 'replace').strip()}")
                if exc.code not in _RETRY_STATUSES:
                    raise error from None
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    error = _timeout_error(what, self.endpoint.query_url, self.endpoint.timeout)
                else:
                    error = EndpointError(_connection_message(what, self.endpoint.query_url, reason))
            if attempt < self.endpoint.retries:
                time.sleep(min(0.25 * 2**attempt, 2.0))
        raise error

    def graphs(self) -> dict[str, int]:
        """Triples per named graph."""
        result = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
        return {str(g): int(n) for g, n in result.rows if isinstance(g, URIRef)}

    def file_hashes(self) -> dict[str, str]:
        """The SHA-256 of the file each graph was loaded from, where the store's manifest graph records it."""
        from kg.store import MANIFEST_GRAPH

        rows = self.select(f"SELECT ?g ?id WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ ?g <http://purl.org/dc/terms/identifier> ?id }} }}").rows
        return {str(g): str(i)[len("sha256:"):] for g, i in rows if str(i).startswith("sha256:")}

    def graph(self, iri: str) -> Graph:
        """One named graph, fetched with GSP GET (or CONSTRUCT where GSP is missing)."""
        try:
            response = self._request("GET", self.endpoint.gsp_url, what=f"Reading graph <{iri}>", params={"graph": iri},
                                     headers={"Accept": "application/n-triples"})
            return Graph().parse(data=response.content.decode("utf-8"), format="nt")
        except EndpointError:
            if self.endpoint.gsp_given:
                raise
        response = self._request(
            "POST", self.endpoint.query_url, what=f"Reading graph <{iri}>",
            data={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"},
            headers={"Accept": "application/n-triples"},
        )
        return Graph().parse(data=response.content.decode("utf-8"), format="nt")

    @property
    def engine(self) -> RemoteEngine:
        """An engine whose default graph is the union of the store's named graphs."""
        return RemoteEngine(self, list(self.graphs()))

    def validate(self, graphs: Iterable[str] | None = None) -> ValidationReport:
        """Validate what the store holds (all graphs, or the given ones)."""
        names = list(graphs) if graphs else list(self.graphs())
        return validate([self.graph(iri) for iri in names])

    # --- writing ------------------------------------------------------------------------

    def load(
        self,
        paths: Iterable[str | Path] | None = None,
        *,
        check: bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> LoadReport:
        """Validate files, then put each into its own named graph on the server.

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
            kept = [self.graph(iri) for iri in self.graphs() if iri not in names]
            report = validate([*files, *kept])
            if not report.conforms:
                raise ValidationFailed(report)
        else:
            report = ValidationReport(True, Graph(), "not validated")
        self.write(files, progress=step)
        return LoadReport(
            validation=report,
            graphs={str(f.graph_iri): f.size for f in files},
            files={str(f.graph_iri): display_path(f.path) for f in files},
        )

    def construct(self, sparql: str) -> Graph:
        """Run a CONSTRUCT query on the server into an rdflib graph."""
        response = self._request("POST", self.endpoint.query_url, what="Querying the endpoint", data={"query": sparql},
                                 headers={"Accept": "application/n-triples"})
        try:
            return Graph().parse(data=response.content.decode("utf-8"), format="nt")
        except Exception:
            raise EndpointError(
                f"Querying the endpoint: the answer from {redact(self.endpoint.query_url)} is not N-Triples."
            ) from None

    def describe(self, iris: list[URIRef], *, exclude_graphs: Iterable[URIRef] = (), depth: int = 2) -> Graph:
        """The triples of each IRI in every graph but the excluded ones, with their blank-node details (one CONSTRUCT per 500 IRIs)."""
        graph = Graph()
        excluded = sorted(set(exclude_graphs))
        exclude = f"FILTER (?g NOT IN ({', '.join(g.n3() for g in excluded)}))" if excluded else ""
        for start in range(0, len(iris), 500):
            values = " ".join(iri.n3() for iri in iris[start : start + 500])
            graph += self.construct(f"""
                CONSTRUCT {{ ?s ?p ?o . ?o ?p2 ?o2 . ?o2 ?p3 ?o3 }} WHERE {{
                  VALUES ?s {{ {values} }}
                  GRAPH ?g {{ ?s ?p ?o .
                    OPTIONAL {{ FILTER (isBlank(?o)) ?o ?p2 ?o2 .
                                OPTIONAL {{ FILTER (isBlank(?o2)) ?o2 ?p3 ?o3 }} }} }}
                  {exclude}
                }}""")
        return graph

    def write(self, files: list[FactsFile], *, progress: Callable[[str], None] | None = None) -> None:
        """Put already-validated files, each into its graph, one request per file.

        Raises:
            PartialLoadError: A request failed after others succeeded.
        """
        step = progress or (lambda description: None)
        loaded: list[str] = []
        for facts in files:
            step(f"sending {facts.path}")
            try:
                self._put(facts)
            except EndpointError as error:
                not_loaded = [str(f.graph_iri) for f in files if str(f.graph_iri) not in loaded]
                raise PartialLoadError(
                    f"{error}\nLoaded: {', '.join(loaded) or 'none'}.\nNot loaded: {', '.join(not_loaded)}.\n"
                    "Each graph is replaced whole, so running the same command again completes the load.",
                    loaded, not_loaded,
                ) from None
            loaded.append(str(facts.graph_iri))

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
        # No Graph Store Protocol: one SPARQL Update request replaces the graph atomically.
        graph = facts.graph if len(facts.graph) else read_turtle(facts.path)
        triples = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
        update = f"DROP SILENT GRAPH <{facts.graph_iri}> ;\nINSERT DATA {{ GRAPH <{facts.graph_iri}> {{\n{triples}}} }}"
        self._request("POST", self.endpoint.update_url, what=what, data=update.encode("utf-8"),
                      headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def remove(self, graph_iri: str) -> None:
        """Remove one named graph."""
        self._request("POST", self.endpoint.update_url, what=f"Removing <{graph_iri}>",
                      data=f"DROP SILENT GRAPH <{graph_iri}>".encode(),
                      headers={"Content-Type": "application/sparql-update"})


class _NoGraphStore(EndpointError):
    """The GSP URL answered as if there were no Graph Store Protocol there."""


class RemoteEngine:
    """Runs queries on a remote store with the union of its named graphs as default graph."""

    name = "endpoint"

    def __init__(self, store: RemoteStore, default_graphs: list[str]):
        self.store = store
        self.default_graphs = default_graphs

    def select(self, sparql: str) -> SelectResult:
        return self.store.select(sparql, default_graphs=self.default_graphs)


def _parse_results(data: dict) -> SelectResult:
    if not isinstance(data, dict) or "head" not in data or "results" not in data:
        raise ValueError("not SPARQL results")
    variables = list(data["head"]["vars"])
    rows = []
    for binding in data["results"]["bindings"]:
        rows.append(tuple(_term(binding[v]) if v in binding else None for v in variables))
    return SelectResult(variables, rows)


def _term(binding: dict):
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in binding:
        return Literal(value, lang=binding["xml:lang"])
    datatype = binding.get("datatype")
    if datatype and datatype != _XSD_STRING:
        return Literal(value, datatype=URIRef(datatype))
    return Literal(value)


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


def _http_error(what: str, url: str, response: requests.Response) -> EndpointError:
    said = response.text[:500].strip() if response.content else ""
    if response.status_code == 413:
        return EndpointError(
            f"{what}: {redact(url)} answered 413 Payload Too Large: the graph is above the server's request size "
            f"limit. Raise the limit on the server, or split the source file. Server says: {said or '(nothing)'}"
        )
    if response.status_code in (401, 403):
        return EndpointError(
            f"{what}: {redact(url)} answered {response.status_code} {response.reason}. Set KG_ENDPOINT_USER and "
            "KG_ENDPOINT_PASSWORD, or add the host to ~/.netrc."
        )
    cls = _NoGraphStore if response.status_code in _NO_GSP_STATUSES else EndpointError
    return cls(f"{what}: {redact(url)} answered HTTP {response.status_code} {response.reason}. "
               f"Server says: {said or '(nothing)'}")


def _server_says(exc: Exception) -> str:
    text = str(exc)
    marker = "Response:"
    if marker in text:
        text = text.split(marker, 1)[1]
    return " ".join(text.split())[:500]
