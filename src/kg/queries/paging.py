"""A page of a long listing read key by key, so that the first page costs what it shows.

An engine sorts an answer only once it has every row: the first page of a listing of the whole
store costs the whole listing (at 1 M triples, seconds). A stored query whose ``ORDER BY`` starts
with a key — the source, the claim holder, the measure and total — can be read range by range
instead: its ``#+ page_keys:`` header is a query listing every key its answer can have (a superset
is fine), in the variables the ``ORDER BY`` starts with. kg lists the keys, sorts them as SPARQL
sorts IRIs and simple literals (by their text: Oxigraph's order), and runs the query for the first
keys only — a ``VALUES`` block, with the parameters' — then for as many more as the rows still wanted need (at the rows
per key seen so far; at least twice as many each time), until the page is full. Each range's rows
come back sorted by the query's own ``ORDER BY``, and the ranges follow the keys' order: the page
holds exactly the rows of the whole answer's page, in the same order. That needs every row to have
its key from the query's own patterns (a row without one would take each key of the ``VALUES``
block): kg accepts ``page_keys`` only for variables a triple pattern of the outer group binds. Keys
that are many are listed by the header's ``when_many`` query instead, a superset found faster
(:data:`MANY_KEYS`).

Only on Oxigraph (embedded or ``oxigraph serve``), whose order of IRIs and texts is known; kg
reads the answer whole, as written, whenever a key is anything else (a number, a date, texts of
several languages in one column), and on every other engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from rdflib import XSD, Literal, Node, URIRef

from kg.queries.engines import SelectResult

#: Keys in the first range; the next ones are sized by the rows per key seen (at most :data:`LARGEST_RANGE`).
FIRST_RANGE = 16
LARGEST_RANGE = 4096
#: Past this many keys, a query's ``when_many`` listing gives its keys (:meth:`kg.queries.catalogue.StoredQuery.list_page_keys`).
MANY_KEYS = 2048


def sort_key(term: Node | None) -> tuple[int, str, str] | None:
    """How Oxigraph orders a key term — IRIs by their text, then texts by theirs — with the text's
    language (``""`` for a plain string), or ``None`` for a term whose order kg does not reproduce
    (numbers, dates, blank nodes). Texts compare by their words only within one language: keys of one
    column in several languages (or plain and tagged) have no known order either (:func:`ordered_keys`).

    >>> sorted([Literal("b"), URIRef("urn:z"), Literal("a")], key=sort_key)
    [rdflib.term.URIRef('urn:z'), rdflib.term.Literal('a'), rdflib.term.Literal('b')]
    >>> sort_key(Literal(3)) is None
    True
    """
    if isinstance(term, URIRef):
        return (0, str(term), "")
    if isinstance(term, Literal) and (term.language is not None or term.datatype in (None, XSD.string)):
        return (1, str(term), term.language or "")
    return None


def ordered_keys(rows: Sequence[tuple[Node | None, ...]]) -> list[tuple[Node | None, ...]] | None:
    """The distinct key rows in the order Oxigraph's ORDER BY gives them, or ``None`` when kg cannot know it.

    >>> ordered_keys([(Literal("b", lang="en"),), (Literal("a", lang="en"),), (Literal("b", lang="en"),)])
    [(rdflib.term.Literal('a', lang='en'),), (rdflib.term.Literal('b', lang='en'),)]
    >>> ordered_keys([(Literal("b", lang="en"),), (Literal("a", lang="fr"),)]) is None
    True
    """
    distinct = set(rows)
    if all(type(term) is URIRef for row in distinct for term in row):  # IRIs only (sources, claims): by their text
        return sorted(distinct, key=lambda row: tuple(map(str, row)))
    keyed = []
    for row in distinct:
        parts = tuple(sort_key(term) for term in row)
        if None in parts:
            return None
        keyed.append((parts, row))
    for column in range(len(keyed[0][0]) if keyed else 0):
        if len({parts[column][2] for parts, _ in keyed if parts[column][0] == 1}) > 1:
            return None  # texts in several languages (or plain and tagged): no order kg reproduces
    return [row for _, row in sorted(keyed, key=lambda entry: entry[0])]


def key_values(variables: Sequence[str], keys: Sequence[tuple[Node, ...]], *,
               also: tuple[Sequence[str], str] | None = None) -> str:
    """A ``VALUES`` block that restricts a query to the given keys, for the start of its outer group;
    ``also`` (variables and one row, as SPARQL) joins the parameters' row into the same block, so that
    the engine starts from the keys and the parameters at once (in two blocks, Oxigraph started from
    the parameters' and joined the keys last, after every row's lookups).

    It only restricts because each key is bound by a triple pattern of the outer group (checked on
    reading the query): a row without its key would join every key of the block.

    >>> print(key_values(["s"], [(URIRef("urn:a"),), (URIRef("urn:b"),)], also=(["?p"], "<urn:p>")))
      VALUES (?p ?s) { (<urn:p> <urn:a>) (<urn:p> <urn:b>) }
    <BLANKLINE>
    """
    names, row = also or ([], "")
    columns = " ".join([*names, *(f"?{name}" for name in variables)])
    rows = " ".join("(" + " ".join([row] * bool(row) + [term.n3() for term in key]) + ")" for key in keys)
    return f"  VALUES ({columns}) {{ {rows} }}\n"


#: A comment in a subquery that its group holds the page's keys too: ``# kg:page-keys ?total_claim``.
INNER_KEYS = re.compile(r"^[ \t]*# kg:page-keys((?:[ \t]+\?\w+)+)[^\n]*$", re.MULTILINE)


def inner_key_variables(sparql: str) -> list[list[str]]:
    """The key variables each ``# kg:page-keys`` comment names.

    >>> inner_key_variables("SELECT * { { SELECT ?t (COUNT(?p) AS ?n) {\\n  # kg:page-keys ?t: its totals only\\n"
    ...                     "  ?t <urn:part> ?p } GROUP BY ?t } }")
    [['t']]
    """
    return [[name[1:] for name in match.group(1).split()] for match in INNER_KEYS.finditer(sparql)]


def keys_inside(sparql: str, variables: Sequence[str], keys: Sequence[tuple[Node, ...]]) -> str:
    """The query with a VALUES block of the keys after each ``# kg:page-keys ?v …`` comment, on the variables it
    names (a triple pattern of that group must bind them).

    A grouped subquery is computed whole before it joins the rest: the comment, put inside one whose
    groups are by those variables, has it compute the page's keys only. The author vouches for that: a
    restriction on a grouping variable keeps each group whole, and the outer join would drop the other rows.
    """
    def restricted(match: re.Match) -> str:
        named = [name[1:] for name in match.group(1).split()]
        columns = [variables.index(name) for name in named]
        values = sorted({tuple(key[c] for c in columns) for key in keys}, key=lambda row: [str(t) for t in row])
        return match.group(0) + "\n" + key_values(named, values)

    return INNER_KEYS.sub(restricted, sparql)


def each_restricted(sparql: str, variables: Sequence[str], rows: Sequence[tuple[Node | None, ...]]) -> tuple[str, str]:
    """The query with a ``VALUES`` block of each variable's own values after every ``# kg:page-keys`` comment
    that names it, and the blocks for the start of its outer group: each variable restricted to the values it
    has in some row, separately (a superset of the rows' combinations; kept answers keep only their own
    partitions' rows, :mod:`kg.queries.kept`).

    >>> inner, outer = each_restricted("{ ?a ?p ?b .\\n  # kg:page-keys ?b\\n  ?b ?q ?c }", ["a", "b"],
    ...                                [(URIRef("urn:a1"), URIRef("urn:b"))])
    >>> print(outer + inner)
      VALUES (?a) { (<urn:a1>) }
      VALUES (?b) { (<urn:b>) }
    { ?a ?p ?b .
      # kg:page-keys ?b
      VALUES (?b) { (<urn:b>) }
      ?b ?q ?c }
    """
    values = {name: sorted({row[i] for row in rows if row[i] is not None}, key=lambda t: (type(t).__name__, str(t)))
              for i, name in enumerate(variables)}

    def restricted(match: re.Match) -> str:
        named = [name[1:] for name in match.group(1).split() if name[1:] in values]
        blocks = "".join(key_values([name], [(t,) for t in values[name]]) for name in named)
        return match.group(0) + ("\n" + blocks.rstrip("\n") if blocks else "")

    outer = "".join(key_values([name], [(t,) for t in terms]) for name, terms in values.items())
    return INNER_KEYS.sub(restricted, sparql), outer


def keyed_page(
    select: Callable[[str], SelectResult],
    restricted: Callable[[Sequence[str], Sequence[tuple[Node, ...]]], str],
    listed: SelectResult,
    *,
    limit: int,
    offset: int = 0,
) -> SelectResult | None:
    """One page of a query's answer (``limit`` rows after ``offset``), read key range by key range;
    ``None`` when the keys cannot be ordered as the engine would order them (read the answer whole then).

    Args:
        select: Runs a SELECT query and returns its whole answer.
        restricted: The query (parameters bound, no LIMIT/OFFSET; its ORDER BY starts with the keys'
            variables) restricted to the keys given (:func:`key_values`).
        listed: Every key the answer can have (a ``#+ page_keys:`` query's answer: variables named alike).
    """
    keys = ordered_keys(listed.rows)
    if keys is None:
        return None
    rows: list[tuple[Node | None, ...]] = []
    variables: list[str] | None = None
    skip, start, size, read = offset, 0, FIRST_RANGE, 0
    while start < len(keys) and len(rows) < limit:
        batch = keys[start:start + size]
        answer = select(restricted(listed.variables, batch))
        variables = answer.variables
        if not set(listed.variables) <= set(variables):
            return None  # the keys are not in the answer: nothing shows a row is in its range
        columns = [variables.index(name) for name in listed.variables]
        if any(row[column] is None for row in answer.rows for column in columns):
            return None  # a row without its key would be in every range
        taken = answer.rows[skip:]
        skip = max(0, skip - len(answer.rows))
        rows.extend(taken[:limit - len(rows)])
        start, read = start + len(batch), read + len(answer.rows)
        # The next range: as many keys as the rows still wanted need at the rows per key seen so far, a quarter
        # more (at least the first range's size); twice the last while no key has had a row. Not "at least twice
        # the last" always: at 1 M that read 1 666 rows for the last 24 of a page of `evidence`.
        wanted = skip + limit - len(rows)
        size = min(max(FIRST_RANGE, math.ceil(1.25 * wanted * start / read)) if read else 2 * size, LARGEST_RANGE)
    if variables is None:  # no keys at all: the answer is empty, but its columns still come from the query
        variables = select(restricted(listed.variables, [])).variables
    return SelectResult(variables, rows)
