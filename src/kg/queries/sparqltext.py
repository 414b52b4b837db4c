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
      | (?P<other>\S)''',
    re.VERBOSE,
)


def tokens(sparql: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each token: comment, string, iri, open, close, var, pname, word, other."""
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
