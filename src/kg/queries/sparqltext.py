"""Reading SPARQL text as tokens, so that checks see keywords and brackets, never the inside of
strings, IRIs or comments.

Two checks run on every query before an engine sees it:

- :func:`nesting_depth`: queries nested thousands of brackets deep crash the SPARQL parsers
  (pyoxigraph's with a segmentation fault); kg refuses anything deeper than
  :data:`MAX_DEPTH`, far beyond what a question needs.
- :func:`service_calls`: a ``SERVICE`` clause makes the engine send HTTP requests to the
  address it names; kg lists them so the caller can refuse them unless allowed.

>>> nesting_depth('SELECT * WHERE { ?s ?p "{{{" . { ?s ?q <urn:x> } } # {{{')
2
>>> service_calls('PREFIX ex: <http://example.org/> SELECT * { SERVICE SILENT ex:sparql { ?s ?p ?o } '
...               'SERVICE ?where { ?s ?p ?o } FILTER (?s < ?o) }')
['http://example.org/sparql', None]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

#: The deepest nesting of { ( [ kg accepts in a query.
MAX_DEPTH = 128

_TOKEN = re.compile(
    r'''(?P<comment>\#[^\n]*)
      | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|'\'\'(?:[^'\\]|\\.|'(?!''))*'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<open>[{(\[])
      | (?P<close>[})\]])
      | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
      | (?P<pname>(?:[A-Za-z][\w.\-]*)?:[\w.\-:%]*)
      | (?P<word>[A-Za-z_][\w\-]*)
      | (?P<integer>[0-9]+(?![.eE0-9]))
      | (?P<other>\S)''',
    re.VERBOSE,
)


def tokens(sparql: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each token: comment, string, iri, open, close, var, pname, word, integer, other."""
    for kind, text, _ in located_tokens(sparql):
        yield kind, text


def located_tokens(sparql: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, offset) for each token, for rewriting a query in place."""
    for match in _TOKEN.finditer(sparql):
        yield match.lastgroup or "other", match.group(), match.start()


def outer_group_start(sparql: str) -> int | None:
    """The offset just inside the query's outer group pattern (its ``WHERE {``, the keyword optional), or
    ``None``; brackets in strings, IRIs, comments and the SELECT clause's expressions do not count.

    >>> q = 'SELECT ?x (EXISTS { ?a ?b ?c } AS ?e) # WHERE {\\n { ?x <urn:a#b> "{" }'
    >>> q[outer_group_start(q):]
    ' ?x <urn:a#b> "{" }'
    """
    depth = 0
    for kind, text, offset in located_tokens(sparql):
        if kind == "open":
            if text == "{" and depth == 0:
                return offset + 1
            depth += 1
        elif kind == "close":
            depth -= 1
    return None


def page(sparql: str, *, limit: int | None = None, offset: int = 0) -> str:
    """The query with its answer cut to one page: ``limit`` rows (``None``: all) after skipping ``offset``.

    A page of a query that has its own LIMIT or OFFSET is a page *of that answer*: the
    offsets add up and the page never reaches past the query's own limit. Ordering is the
    query's: a page is stable only when the query has an ORDER BY that decides every row.

    >>> page("SELECT * { ?s ?p ?o } ORDER BY ?s", limit=10, offset=20)
    'SELECT * { ?s ?p ?o } ORDER BY ?s LIMIT 10 OFFSET 20\\n'
    >>> page("SELECT * { ?s ?p '} LIMIT 1' } LIMIT 15 OFFSET 5", limit=10, offset=10)
    "SELECT * { ?s ?p '} LIMIT 1' } LIMIT 5 OFFSET 15\\n"
    """
    if limit is None and not offset:
        return sparql
    depth, closed, cut, own_limit, own_offset, values_at = 0, False, None, None, 0, None
    found = list(located_tokens(sparql))
    for index, (kind, text, at) in enumerate(found):
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            closed = closed or depth == 0
        elif closed and depth == 0 and kind == "word" and text.upper() in ("LIMIT", "OFFSET"):
            number = found[index + 1] if index + 1 < len(found) else None
            if number is None or not number[1].isdigit():
                raise ValueError(f"{text} without a number in the query")
            cut = at if cut is None else cut
            if text.upper() == "LIMIT":
                own_limit = int(number[1])
            else:
                own_offset = int(number[1])
        elif closed and depth == 0 and kind == "word" and text.upper() == "VALUES":
            values_at = at
            break
    end = values_at if values_at is not None else len(sparql)
    start = cut if cut is not None else end
    if own_limit is not None:
        left = max(0, own_limit - offset)
        limit = left if limit is None else min(limit, left)
    modifiers = (f" LIMIT {limit}" if limit is not None else "") + (
        f" OFFSET {own_offset + offset}" if own_offset + offset else "")
    return sparql[:start].rstrip() + modifiers + ("\n" + sparql[end:] if values_at is not None else "\n")


def projected_variables(sparql: str) -> list[str] | None:
    """The variables a SELECT query projects by name (without ``?``), in order; ``None`` for ``SELECT *``.

    >>> projected_variables("PREFIX ex: <urn:x#> SELECT DISTINCT ?a (COUNT(?c) AS ?n) WHERE { ?a ex:b ?c } GROUP BY ?a")
    ['a', 'n']
    """
    names, depth, inside = [], 0, False
    for kind, text in tokens(sparql):
        if kind == "word" and text.upper() == "SELECT" and not inside:
            inside = True
        elif not inside or kind == "comment":
            continue
        elif kind == "open" and text == "{" or (kind == "word" and text.upper() == "WHERE"):
            return names
        elif kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "other" and text == "*" and depth == 0:
            return None
        elif kind == "var" and (depth == 0 or names and names[-1] == "AS"):
            names[-1:] = [text[1:]] if names and names[-1] == "AS" else names[-1:] + [text[1:]]
        elif kind == "word" and text.upper() == "AS":
            names.append("AS")
    return names


def bound_by_outer_patterns(sparql: str, variable: str) -> bool:
    """Whether a triple pattern of the query's outer group (not in an OPTIONAL, a UNION, a subquery or a
    VALUES block) names ``?variable``: then every solution of the query binds it.

    >>> bound_by_outer_patterns("SELECT * { ?s ?p ?o OPTIONAL { ?s ?q ?x } }", "s")
    True
    >>> [bound_by_outer_patterns("SELECT * { VALUES ?v { 1 } { ?s ?p ?v } UNION { ?t ?p ?o } }", v) for v in "vs"]
    [False, False]
    """
    depth, values = 0, False
    for kind, text in tokens(sparql):
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            values = values and depth != 1
        elif kind == "word" and depth == 1:
            values = text.upper() == "VALUES"
        elif kind == "var" and depth == 1 and not values and text[1:] == variable:
            return True
    return False


def order_conditions(sparql: str) -> list[tuple[str, bool]] | None:
    """The outer ``ORDER BY`` as (variable, descending) pairs, or ``None`` when a condition is an expression
    (``STR(?s)``) or there is no ``ORDER BY``.

    >>> order_conditions("SELECT * { ?s ?p ?o } ORDER BY ?s DESC(?p) ASC(?o) LIMIT 2")
    [('s', False), ('p', True), ('o', False)]
    >>> order_conditions("SELECT * { ?s ?p ?o } ORDER BY STR(?s)") is None
    True
    """
    order, _ = _order_tokens(sparql)
    conditions, complete = _leading_conditions(order)
    return conditions if complete and conditions else None


def _leading_conditions(order: list[tuple[str, str]]) -> tuple[list[tuple[str, bool]], bool]:
    """The ORDER BY tokens' leading conditions on a plain variable (``?v``, ``ASC(?v)``, ``DESC(?v)``) as
    (variable, descending), and whether they are all of it (no expression after them)."""
    conditions: list[tuple[str, bool]] = []
    at = 0
    while at < len(order):
        if order[at][0] == "var":
            conditions.append((order[at][1][1:], False))
            at += 1
        elif [k for k, _ in order[at:at + 4]] == ["word", "open", "var", "close"] \
                and order[at][1].upper() in ("ASC", "DESC"):
            conditions.append((order[at + 2][1][1:], order[at][1].upper() == "DESC"))
            at += 4
        else:
            return conditions, False
    return conditions, True


def _order_tokens(sparql: str) -> tuple[list[tuple[str, str]], bool]:
    """The outer ORDER BY clause's tokens, and whether the query has a LIMIT or OFFSET of its own."""
    depth, closed, ordering, cuts = 0, False, False, False
    order: list[tuple[str, str]] = []
    previous = ""
    for kind, text in tokens(sparql):
        if kind == "comment":
            continue
        word = text.upper() if kind == "word" else ""
        if closed and depth == 0 and word in ("LIMIT", "OFFSET", "VALUES"):
            cuts, ordering = cuts or word != "VALUES", False
        elif closed and depth == 0 and word == "BY" and previous == "ORDER":
            ordering = True
        elif ordering:
            order.append((kind, text))
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            closed = closed or depth == 0
        previous = word
    return order, cuts


def ordered_by(sparql: str) -> tuple[list[str], bool]:
    """The variables the outer ``ORDER BY`` starts with, ascending and plain (without ``?``), and whether the
    query cuts its own answer (a ``LIMIT`` or ``OFFSET`` of its own).

    >>> ordered_by("SELECT * { { SELECT ?x { ?x ?p ?o } ORDER BY ?o } } ORDER BY ?s ASC(?p) DESC(?o) ?g")
    (['s', 'p'], False)
    >>> ordered_by("SELECT * { ?s ?p ?o } ORDER BY STR(?s) ?p LIMIT 3")
    ([], True)
    >>> ordered_by("SELECT * { ?s ?p ?o } ORDER BY ASC(?s) ?p")
    (['s', 'p'], False)
    """
    order, cuts = _order_tokens(sparql)
    keys = list(itertools.takewhile(lambda condition: not condition[1], _leading_conditions(order)[0]))
    return [name for name, _ in keys], cuts


#: Comments around patterns that kg hands to Oxigraph as one subquery (:func:`hinted_subqueries`).
SUBQUERY_BEGIN, SUBQUERY_END = "# kg:subquery begin", "# kg:subquery end"


def hinted_subqueries(sparql: str) -> str:
    """The query with the patterns between the comments ``# kg:subquery begin`` and ``# kg:subquery end``
    written as a subquery that projects every variable, ``{ SELECT * WHERE { … } }``.

    The answers are the same: a subquery projecting all its variables is its group, and a group's
    patterns join the rest as they would unbracketed. What changes is Oxigraph's plan: it joins a
    subquery to the rest as a whole, by hashing every variable they share, instead of looking its
    patterns up from each row of the rest one by one. Pairs of claims that must share four keys are
    then matched on all four at once, not on the first and checked after (the square of the claims
    per period). Other engines get the text as written: rdflib would compute a subquery (or a nested
    group) whole and pair it with every row. Markers that are not in one group, in order, change nothing.

    >>> hinted_subqueries('SELECT * { ?a <urn:k> ?k .\\n# kg:subquery begin: on ?k\\n?b <urn:k> ?k .\\n# kg:subquery end\\n}')
    'SELECT * { ?a <urn:k> ?k .\\n{ SELECT * WHERE { # kg:subquery begin: on ?k\\n?b <urn:k> ?k .\\n} } # kg:subquery end\\n}'
    >>> hinted_subqueries('SELECT * { { # kg:subquery begin\\n ?s ?p ?o } # kg:subquery end\\n}').count("SELECT")
    1
    """
    if SUBQUERY_BEGIN not in sparql:  # most queries: not read token by token on every run
        return sparql
    depth, begin, edits = 0, None, []
    for kind, text, at in located_tokens(sparql):
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if begin is not None and depth < begin[1]:
                begin = None  # the group closed before the end marker: not one group
        elif kind == "comment" and text.startswith(SUBQUERY_BEGIN):
            begin = (at, depth)
        elif kind == "comment" and text.startswith(SUBQUERY_END) and begin is not None and depth == begin[1]:
            edits += [(begin[0], "{ SELECT * WHERE { "), (at, "} } ")]
            begin = None
    for at, insert in sorted(edits, reverse=True):
        sparql = sparql[:at] + insert + sparql[at:]
    return sparql


def nesting_depth(sparql: str) -> int:
    """The deepest nesting of brackets outside strings, IRIs and comments."""
    depth = deepest = 0
    for kind, _ in tokens(sparql):
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth -= 1
    return deepest


def service_calls(sparql: str) -> list[str | None]:
    """The IRI each ``SERVICE`` clause names (prefixed names expanded), ``None`` for a variable."""
    prefixes: dict[str, str] = {}
    found: list[str | None] = []
    significant = [(k, t) for k, t in tokens(sparql) if k != "comment"]
    for index, (kind, text) in enumerate(significant):
        if kind == "word" and text.upper() == "PREFIX" and index + 2 < len(significant):
            name, iri = significant[index + 1][1], significant[index + 2][1]
            if name.endswith(":") and iri.startswith("<"):
                prefixes[name[:-1]] = iri[1:-1]
        if kind == "word" and text.upper() == "SERVICE":
            rest = significant[index + 1 : index + 3]
            if rest and rest[0][0] == "word" and rest[0][1].upper() == "SILENT":
                rest = rest[1:]
            if not rest:
                found.append(None)
                continue
            target_kind, target = rest[0]
            if target_kind == "iri":
                found.append(target[1:-1])
            elif target_kind == "pname" and target.split(":", 1)[0] in prefixes:
                prefix, local = target.split(":", 1)
                found.append(prefixes[prefix] + local)
            else:
                found.append(None)
    return found
