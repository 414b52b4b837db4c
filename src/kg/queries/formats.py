"""Writing query answers: an aligned table for people, and the W3C SPARQL 1.1 results
formats for tools (CSV, TSV and JSON).

JSON is written here (https://www.w3.org/TR/sparql11-results-json/); CSV and TSV by
pyoxigraph's own serializers (https://www.w3.org/TR/sparql11-results-csv-tsv/), which escape
what a hand-written writer got wrong (a newline inside a literal broke the TSV).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import Enum

import pyoxigraph as ox
from rdflib import XSD, BNode, Literal, Node, URIRef

from kg.model.namespaces import shorten


class ResultFormat(str, Enum):
    """Output formats of ``kg query``."""

    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"


def _with_oxigraph(variables: Sequence[str], rows: Sequence[Sequence[Node | None]], fmt) -> str:
    """Rows written by pyoxigraph's SPARQL results serializer (read back from kg's JSON)."""
    solutions = ox.parse_query_results(to_json(variables, rows).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
    return solutions.serialize(format=fmt).decode("utf-8")


def to_csv(variables: Sequence[str], rows: Sequence[Sequence[Node | None]]) -> str:
    r"""SPARQL 1.1 CSV (pyoxigraph's writer): plain values, IRIs unbracketed, datatypes and languages dropped.

    >>> to_csv(["a", "b"], [(URIRef("http://x/1"), Literal('say "hi" now'))]).split("\r\n")
    ['a,b', 'http://x/1,"say ""hi"" now"', '']
    """
    return _with_oxigraph(variables, rows, ox.QueryResultsFormat.CSV)


def to_tsv(variables: Sequence[str], rows: Sequence[Sequence[Node | None]]) -> str:
    r"""SPARQL 1.1 TSV (pyoxigraph's writer): ``?var`` names, then terms in Turtle syntax, newlines escaped.

    >>> to_tsv(["n", "t"], [(Literal(153), Literal("two\nlines"))]).splitlines()
    ['?n\t?t', '153\t"two\\nlines"']
    """
    return _with_oxigraph(variables, rows, ox.QueryResultsFormat.TSV)


def json_term(term: Node) -> dict:
    """One term in SPARQL 1.1 JSON results."""
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    binding = {"type": "literal", "value": str(term)}
    if term.language:
        binding["xml:lang"] = term.language
    elif term.datatype is not None and term.datatype != XSD.string:
        binding["datatype"] = str(term.datatype)
    return binding


def to_json(variables: Sequence[str], rows: Sequence[Sequence[Node | None]]) -> str:
    """SPARQL 1.1 JSON results.

    >>> json.loads(to_json(["n"], [(Literal(1),)]))["results"]["bindings"][0]["n"]["value"]
    '1'
    """
    bindings = [{var: json_term(term) for var, term in zip(variables, row) if term is not None} for row in rows]
    return json.dumps({"head": {"vars": list(variables)}, "results": {"bindings": bindings}}, indent=2, ensure_ascii=False)


def display(term: Node | None) -> str:
    """A term as people read it in a table: prefixed names, plain literal text."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        return str(term)
    return shorten(term) or ""


def to_table(variables: Sequence[str], rows: Sequence[Sequence[Node | None]], *, title: str | None = None, width: int | None = None):
    """A rich table for the terminal; long quotes wrap within their column.

    Returns:
        A :class:`rich.table.Table` to print with a :class:`rich.console.Console`.
    """
    from rich.table import Table

    table = Table(title=title, show_lines=True, expand=False)
    for var in variables:
        numeric = any(isinstance(row[i], Literal) and isinstance(row[i].toPython(), (int, float)) or
                      (isinstance(row[i], Literal) and row[i].datatype == XSD.decimal)
                      for row in rows for i in [variables.index(var)] if row[i] is not None)
        wide = var.startswith("quote") or var in ("statement", "quote")
        table.add_column(var, justify="right" if numeric else "left", overflow="fold",
                         min_width=24 if wide else None, ratio=3 if wide else 1)
    for row in rows:
        table.add_row(*(display(term) for term in row))
    return table


def render(fmt: ResultFormat | str, variables, rows, *, title: str | None = None) -> str:
    """Render rows in a machine format (``csv``, ``tsv``, ``json``) as text."""
    fmt = ResultFormat(fmt)
    if fmt is ResultFormat.CSV:
        return to_csv(variables, rows)
    if fmt is ResultFormat.TSV:
        return to_tsv(variables, rows)
    if fmt is ResultFormat.JSON:
        return to_json(variables, rows) + "\n"
    raise ValueError("tables are printed with to_table()")
