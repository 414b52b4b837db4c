"""SPARQL engines that run kg's stored queries: embedded Oxigraph and plain rdflib.

Both answer over the union of the named graphs (the ontology, the reference data and
one graph per source), and both return rdflib terms, so answers compare row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, Node, URIRef, Variable

from kg.model.errors import KgError
from kg.queries.sparqltext import hinted_subqueries

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass(frozen=True)
class SelectResult:
    """The answer to a SELECT query.

    Attributes:
        variables: The projected variable names, in order.
        rows: One tuple per solution, ``None`` where a variable is unbound.
    """

    variables: list[str]
    rows: list[tuple[Node | None, ...]]


class Engine(Protocol):
    """Something that answers SPARQL SELECT queries over kg's data."""

    name: str
    #: Oxigraph answers (embedded or ``oxigraph serve``): numbers stored by value, IRIs and simple literals
    #: ordered by their text, ``# kg:subquery`` hints honoured. kg then looks figures up and pages by key.
    oxigraph: bool

    def select(self, sparql: str, *, max_rows: int | None = None) -> SelectResult:
        """Run a SELECT query over the union of the named graphs (more than ``max_rows`` rows: an error)."""


class QuerySyntaxError(KgError):
    """The SPARQL text does not parse."""


class QueryLimitError(KgError):
    """A query went past a limit (rows, time); kg stopped it."""


def too_many_rows(max_rows: int) -> QueryLimitError:
    return QueryLimitError(
        f"The query returns more than {max_rows:,} rows, kg's limit for one answer; kg stopped reading it. "
        "Narrow the question (a parameter, a FILTER, LIMIT/OFFSET for pages), or raise the limit with --max-rows."
    )


def _rows(solutions, convert, max_rows: int | None) -> list:
    rows = []
    for solution in solutions:
        if max_rows is not None and len(rows) >= max_rows:
            raise too_many_rows(max_rows)
        rows.append(convert(solution))
    return rows


@lru_cache(maxsize=65536)
def _literal(value: str, datatype: str, language: str | None) -> Literal:
    # rdflib parses a typed literal's lexical form on construction: cache the repeated ones.
    if language:
        return Literal(value, lang=language)
    if datatype == _XSD_STRING:
        return Literal(value)  # RDF 1.1 simple literal, as rdflib represents it
    return Literal(value, datatype=URIRef(datatype))


@lru_cache(maxsize=65536)
def _iri(value: str) -> URIRef:
    return URIRef(value)


#: A term as kg keeps it in whole answers (:mod:`kg.queries.kept`): ``["i", iri]``, ``["b", label]``,
#: ``["l", text, datatype, language]``, ``None`` for unbound (:func:`term_cell`).
Cell = list | None


def term_cell(term) -> Cell:
    """A term (rdflib's or pyoxigraph's) as kept answers keep it: ``["i", iri]``, ``["b", label]``,
    ``["l", text, datatype, language]``, ``None`` for unbound — the engine's own text, unconverted.

    >>> term_cell(Literal("a", lang="en")), term_cell(URIRef("urn:x")), term_cell(None)
    (['l', 'a', '', 'en'], ['i', 'urn:x'], None)
    """
    if term is None:
        return None
    if isinstance(term, (URIRef, ox.NamedNode)):
        return ["i", str(term) if isinstance(term, URIRef) else term.value]
    if isinstance(term, (BNode, ox.BlankNode)):
        return ["b", str(term) if isinstance(term, BNode) else term.value]
    # A plain string's datatype (xsd:string) and a tagged one's (rdf:langString) are written "".
    if isinstance(term, ox.Literal):
        datatype = "" if term.language else term.datatype.value
        return ["l", term.value, "" if datatype == _XSD_STRING else datatype, term.language or ""]
    datatype = "" if term.language else str(term.datatype or "")
    return ["l", str(term), "" if datatype == _XSD_STRING else datatype, term.language or ""]


def term_to_oxigraph(term: Node):
    """An rdflib term as a pyoxigraph term (for substitutions)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"cannot bind {term!r}")


def term_from_oxigraph(term) -> Node | None:
    """Convert a pyoxigraph term to the equal rdflib term."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        return _literal(term.value, term.datatype.value, term.language)
    raise TypeError(f"unsupported term {term!r}")


class OxigraphEngine:
    """Queries a :class:`pyoxigraph.Store` with its default graph as the union of all graphs."""

    name = "oxigraph"
    oxigraph = True
    #: Parameters arrive as a VALUES block: Oxigraph's substitutions (SEP-0007) only take
    #: variables the query projects, and most parameters are not projected.
    binds_variables = False
    #: The answers kept beside an on-disk store (:mod:`kg.queries.kept`), set by the store; ``None``: none.
    kept = None

    def __init__(self, store: ox.Store):
        self.store = store

    def select(self, sparql: str, *, max_rows: int | None = None, bindings: dict[str, Node] | None = None) -> SelectResult:
        return self._select(sparql, term_from_oxigraph, max_rows=max_rows, bindings=bindings)

    def select_cells(self, sparql: str) -> SelectResult:
        """A SELECT query's answer with each term as :func:`term_cell` writes it (the engine's own
        text, not converted to rdflib: kg's own bookkeeping of whole answers, :mod:`kg.queries.kept`)."""
        return self._select(sparql, term_cell)

    def _select(self, sparql: str, convert, *, max_rows: int | None = None,
                bindings: dict[str, Node] | None = None) -> SelectResult:
        try:
            substitutions = {ox.Variable(name): term_to_oxigraph(term) for name, term in (bindings or {}).items()}
            solutions = self.store.query(hinted_subqueries(sparql), use_default_graph_as_union=True,
                                         substitutions=substitutions or None)
            if not isinstance(solutions, ox.QuerySolutions):
                raise KgError("kg runs SELECT queries only; this query is an ASK, CONSTRUCT or DESCRIBE.")
            variables = [v.value for v in solutions.variables]
            rows = _rows(solutions, lambda s: tuple(convert(s[v]) for v in variables), max_rows)
        except SyntaxError as error:
            raise QuerySyntaxError(f"The query does not parse: {error}") from None
        except OSError as error:  # evaluation errors, SERVICE failures included
            raise KgError(f"The query failed while running: {error}") from None
        return SelectResult(variables, rows)


class RdflibEngine:
    """Queries an rdflib :class:`~rdflib.Dataset` whose default graph is the union of its graphs."""

    name = "rdflib"
    oxigraph = False
    #: Takes parameter values as ``bindings`` (rdflib's initBindings).
    binds_variables = True

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def select(self, sparql: str, *, max_rows: int | None = None, bindings: dict[str, Node] | None = None) -> SelectResult:
        try:
            result = self.dataset.query(sparql, initBindings={Variable(name): term for name, term in (bindings or {}).items()})
            if result.type != "SELECT":
                raise KgError("kg runs SELECT queries only; this query is an ASK, CONSTRUCT or DESCRIBE.")
            variables = [str(v) for v in result.vars]
            rows = _rows(result, tuple, max_rows)
        except KgError:
            raise
        except Exception as error:  # pyparsing's ParseException and friends
            raise QuerySyntaxError(f"The query does not parse or cannot run: {error}") from None
        return SelectResult(variables, rows)
