"""Checking quotes against a source text, and measuring what of the text is encoded.

Facts anchor each claim to its words with a Web Annotation TextQuoteSelector (the exact
words, with a little prefix and suffix) and a TextPositionSelector (0-based start,
exclusive end, in Unicode characters). :func:`verify_quotes` checks both against the text
and the source's recorded SHA-256; :func:`coverage` lists the sentences and numbers of
the text that no claim quotes and no exclusion covers.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, Graph, Node, URIRef

from kg.model.inputs import read_utf8
from kg.model.namespaces import KG, OA
from kg.model.namespaces import shorten

#: Numbers written as words, counted as figures besides digits ("eight", "twenty-five", "half", "a third").
#: A bare "one" is left out: it is far more often a pronoun ("one of the groups") than a figure.
_UNITS = ("two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_WORDS = ("one-third", "two-thirds", "one-quarter", "three-quarters", "a third", "a quarter", "half", "dozen",
                "dozens", "scores", "hundred", "hundreds", "thousand", "thousands", "million", "millions", "billion",
                "double", "triple", "tens of thousands", *_TEENS, *_UNITS)
_NUMBER = re.compile(
    r"\d[\d,.]*\d|\d"
    rf"|\b(?:{'|'.join(_TENS)})(?:-(?:one|{'|'.join(_UNITS)}))?\b"
    rf"|\b(?:{'|'.join(re.escape(w) for w in sorted(NUMBER_WORDS, key=len, reverse=True))})\b",
    re.IGNORECASE)

def figures(text: str) -> list[tuple[int, int, str]]:
    """(start, end, words) of each number in the text, in digits or in words.

    >>> figures("153 attacks, nearly two hundred missions and half the 1,000 detained")
    [(0, 3, '153'), (20, 23, 'two'), (24, 31, 'hundred'), (45, 49, 'half'), (54, 59, '1,000')]
    """
    return [(m.start(), m.end(), m.group()) for m in _NUMBER.finditer(text)]


#: Words that end with a full stop inside a sentence: titles, ranks, months, "No.", "e.g.".
ABBREVIATIONS = frozenset("""mr mrs ms dr prof gen lt col maj sgt capt cpt adm cmdr brig sen rep gov pres amb rev
    st mt ft no nos vs etc e.g i.e approx est jan feb mar apr jun jul aug sep sept oct nov dec inc ltd corp co jr sr
    dept univ""".split())
#: Capitalised words that begin sentences. After an initialism ("by the U.S. According to ...") one of
#: them starts a new sentence; any other word continues it ("the U.S. Central Command").
SENTENCE_OPENERS = frozenset("""a an the this that these those it its he she they we i you his her their our there
    here in on at of for from with by after before since during while when where if as but and or so yet however
    meanwhile according still also some many most all no not one two several both each according officials""".split())
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")


def sentences(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each sentence: a line ends one, and so does ., ! or ? before a space —
    unless it ends an abbreviation, an initialism followed by a name, or the next word is in lower case.

    >>> t = 'Said the U.S. Central Command on Jan. 3. It is designated by the U.S. According to him, 3.5 percent.\\nNext'
    >>> [t[a:b] for a, b in sentences(t)]
    ['Said the U.S. Central Command on Jan. 3.', 'It is designated by the U.S.', 'According to him, 3.5 percent.', 'Next']
    """
    found, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        end = boundary.end()
        if boundary.group() != "\n":
            before = re.search(r"([A-Za-z][A-Za-z.]*)\.$", text[start:boundary.start() + 1].rstrip("!?"))
            word = before.group(1).lower() if before else ""
            after = re.match(r"\s*[\"'“‘(\[]*([^\s\"'“‘(\[]*)", text[end:])
            following = re.sub(r"[^\w-]", "", after.group(1)) if after else ""
            if following[:1].islower():
                continue
            if word in ABBREVIATIONS:
                continue
            if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word) and following.lower() not in SENTENCE_OPENERS:
                continue
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            found.append((start + lead, start + len(piece.rstrip())))
        start = end
    if text[start:].strip():
        piece = text[start:]
        found.append((start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())))
    return found


#: The share of a sentence's characters its quotes must cover for the sentence to count as encoded.
COVERED_SHARE = 0.5


@dataclass(frozen=True)
class Anchor:
    """One quote of a facts file: the claim or excluded passage it anchors, and its selectors."""

    owner: Node
    exact: str
    prefix: str | None
    suffix: str | None
    start: int | None
    end: int | None
    excluded: bool = False


@dataclass(frozen=True)
class QuoteProblem:
    """A quote that does not match the text, and the nearest match found."""

    owner: str
    message: str
    nearest_offset: int | None = None
    nearest_text: str | None = None
    similarity: float | None = None

    def to_text(self) -> str:
        lines = [f"{self.owner}: {self.message}"]
        if self.nearest_text is not None:
            lines.append(f"    nearest match at {self.nearest_offset} ({self.similarity:.0%} similar): {self.nearest_text!r}")
        return "\n".join(lines)


@dataclass
class QuoteReport:
    """The outcome of :func:`verify_quotes`."""

    checked: int
    problems: list[QuoteProblem] = field(default_factory=list)
    phrases: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_text(self) -> str:
        blocks = [problem.to_text() for problem in self.problems]
        wrong = len([p for p in self.problems if p.owner != "source" and not p.message.startswith("the relaying phrase")])
        phrases = f" and {self.phrases} relaying phrases" if self.phrases else ""
        blocks.append(f"{self.checked} quotes{phrases} checked: {self.checked - wrong} quotes match, "
                      f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}.")
        return "\n\n".join(blocks)


#: A news report is a few thousand characters; anything beyond this is not one.
MAX_TEXT_BYTES = 16 * 1024 * 1024


def read_text(path: str | Path) -> str:
    """A source text, read exactly (no newline translation), or a clear error (at most 16 MB)."""
    return read_utf8(path, limit=MAX_TEXT_BYTES, what="a source text")


def anchors(graph: Graph) -> list[Anchor]:
    """Every quote in a facts graph: claims' evidence and excluded passages."""
    found = []
    for prop, excluded in ((KG.evidence, False), (KG.excludes, True)):
        for owner, resource in graph.subject_objects(prop):
            exact = prefix = suffix = start = end = None
            for selector in graph.objects(resource, OA.hasSelector):
                if (selector, RDF.type, OA.TextQuoteSelector) in graph:
                    exact = graph.value(selector, OA.exact)
                    prefix = graph.value(selector, OA.prefix)
                    suffix = graph.value(selector, OA.suffix)
                if (selector, RDF.type, OA.TextPositionSelector) in graph:
                    start, end = graph.value(selector, OA.start), graph.value(selector, OA.end)
            if exact is None:
                continue
            found.append(Anchor(
                owner=resource if excluded else owner,
                exact=str(exact),
                prefix=None if prefix is None else str(prefix),
                suffix=None if suffix is None else str(suffix),
                start=_int(start),
                end=_int(end),
                excluded=excluded,
            ))
    return sorted(found, key=lambda a: (a.start if a.start is not None else -1, str(a.owner)))


def _int(node) -> int | None:
    try:
        return int(node.toPython()) if node is not None else None
    except (TypeError, ValueError):
        return None


def nearest(text: str, exact: str) -> tuple[int, str, float]:
    """Where in the text the quote most nearly appears: (offset, that text, similarity)."""
    if not exact or not text:
        return 0, "", 0.0
    found = text.find(exact)
    if found >= 0:
        return found, exact, 1.0
    matcher = difflib.SequenceMatcher(None, text, exact, autojunk=False)
    block = matcher.find_longest_match(0, len(text), 0, len(exact))
    start = max(0, block.a - block.b)
    window = text[start : start + len(exact)]
    return start, window, difflib.SequenceMatcher(None, window, exact, autojunk=False).ratio()


def verify_quotes(text: str, graph: Graph, *, source: URIRef | None = None) -> QuoteReport:
    """Check every quote of a facts graph against the source text.

    Each quote's exact words must stand at its offsets, its prefix right before them and
    its suffix right after; each relaying phrase (``kg:relayPhrase``) must occur in the
    text; the text's SHA-256 must be the one the source records.

    >>> g = Graph().parse(data='''
    ... @prefix kg: <https://w3id.org/conflict-kg/ontology#> . @prefix oa: <http://www.w3.org/ns/oa#> .
    ... <urn:c> kg:evidence [ oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "two words" ] ,
    ...                                      [ a oa:TextPositionSelector ; oa:start 4 ; oa:end 13 ] ] .''', format="turtle")
    >>> verify_quotes("Say two words.", g).ok
    True
    >>> print(verify_quotes("Say two wards.", g).problems[0].to_text())
    <urn:c>: the text at 4-13 is 'two wards', not the quote 'two words'
        nearest match at 4 (89% similar): 'two wards'
    """
    problems: list[QuoteProblem] = []
    sources = [source] if source is not None else list(graph.subjects(RDF.type, KG.NewsArticle)) + list(
        graph.subjects(RDF.type, KG.SourceDocument))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    for src in dict.fromkeys(sources):
        recorded = graph.value(src, KG.sha256)
        if recorded is not None and str(recorded) != digest:
            problems.append(QuoteProblem("source", f"the text's SHA-256 is {digest}, but {shorten(src)} records {recorded}: "
                                                   "this is not the text the facts were written from"))
        count = graph.value(src, KG.characterCount)
        if count is not None and _int(count) != len(text):
            problems.append(QuoteProblem("source", f"the text has {len(text)} characters, but {shorten(src)} records {count}"))
    found = anchors(graph)
    for anchor in found:
        owner = shorten(anchor.owner) if isinstance(anchor.owner, URIRef) else f"excluded passage {anchor.exact[:30]!r}"
        if anchor.start is None or anchor.end is None:
            offset, window, similarity = nearest(text, anchor.exact)
            problems.append(QuoteProblem(owner, "the quote has no TextPositionSelector offsets", offset, window, similarity))
            continue
        actual = text[anchor.start : anchor.end]
        if actual != anchor.exact:
            offset, window, similarity = nearest(text, anchor.exact)
            problems.append(QuoteProblem(owner, f"the text at {anchor.start}-{anchor.end} is {actual!r}, not the quote {anchor.exact!r}",
                                         offset, window, similarity))
            continue
        if anchor.prefix is not None and not text[: anchor.start].endswith(anchor.prefix):
            problems.append(QuoteProblem(owner, f"the prefix {anchor.prefix!r} does not come right before the quote"))
        if anchor.suffix is not None and not text[anchor.end :].startswith(anchor.suffix):
            problems.append(QuoteProblem(owner, f"the suffix {anchor.suffix!r} does not come right after the quote"))
    # A relaying phrase ("according to a CENTCOM statement") is the report's own words too.
    phrases = sorted({(claim, str(phrase)) for claim, step in graph.subject_objects(KG.reportedVia)
                      for phrase in graph.objects(step, KG.relayPhrase)}, key=str)
    for claim, phrase in phrases:
        if phrase not in text:
            offset, window, similarity = nearest(text, phrase)
            problems.append(QuoteProblem(shorten(claim), f"the relaying phrase {phrase!r} does not occur in the text",
                                         offset, window, similarity))
    return QuoteReport(checked=len(found), problems=problems, phrases=len(phrases))


@dataclass(frozen=True)
class Span:
    """A sentence or a number of the text, and how it is covered."""

    start: int
    end: int
    text: str
    status: str  # "quoted", "excluded", "partly quoted", "partly excluded" or "not encoded"


@dataclass
class CoverageReport:
    """Which sentences and numbers of a source text the facts quote."""

    sentences: list[Span]
    numbers: list[Span]

    def missing(self) -> tuple[list[Span], list[Span]]:
        return ([s for s in self.sentences if s.status not in ("quoted", "excluded")],
                [n for n in self.numbers if n.status == "not encoded"])

    @property
    def complete(self) -> bool:
        sentences, numbers = self.missing()
        return not sentences and not numbers

    def summary(self) -> str:
        def part(spans: list[Span], name: str) -> str:
            quoted = sum(s.status == "quoted" for s in spans)
            excluded = sum(s.status == "excluded" for s in spans)
            return f"{name}: {quoted + excluded}/{len(spans)} covered ({quoted} quoted, {excluded} excluded)"

        return f"{part(self.sentences, 'sentences')}; {part(self.numbers, 'numbers')}"

    def to_text(self) -> str:
        sentences, numbers = self.missing()
        lines = []
        for span in sentences:
            lines.append(f"sentence {span.status.replace('quoted', 'encoded')} at {span.start}-{span.end}: {span.text}")
        for span in numbers:
            lines.append(f"number not encoded at {span.start}: {span.text!r}")
        excluded = [s for s in self.sentences if s.status == "excluded"]
        for span in excluded:
            lines.append(f"excluded on purpose at {span.start}-{span.end}: {span.text[:80]}{'…' if len(span.text) > 80 else ''}")
        lines.append(self.summary())
        return "\n".join(lines)


def coverage(text: str, graph: Graph) -> CoverageReport:
    """Which sentences and numbers of the text no claim quotes and no exclusion covers.

    A sentence counts as quoted when claims' quotes cover at least :data:`COVERED_SHARE` of
    its characters (a 20-character fragment of a 241-character sentence leaves it "partly
    quoted", listed with what is left); a number when it lies inside a quote. Offsets come
    from the TextPositionSelectors.

    >>> g = Graph().parse(data='''
    ... @prefix kg: <https://w3id.org/conflict-kg/ontology#> . @prefix oa: <http://www.w3.org/ns/oa#> .
    ... <urn:c> kg:evidence [ oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "12 attacks" ] ,
    ...                                      [ a oa:TextPositionSelector ; oa:start 7 ; oa:end 17 ] ] .''', format="turtle")
    >>> report = coverage("It saw 12 attacks. Then eight more in the U.S. capital.", g)
    >>> report.summary()
    'sentences: 1/2 covered (1 quoted, 0 excluded); numbers: 1/2 covered (1 quoted, 0 excluded)'
    >>> [(n.text, n.status) for n in report.numbers]
    [('12', 'quoted'), ('eight', 'not encoded')]
    """
    spans = [(a.start, a.end, a.excluded) for a in anchors(graph) if a.start is not None and a.end is not None]

    def covered(start: int, end: int, excluded: bool) -> int:
        """How many of the characters start..end spans of one kind cover (overlaps counted once)."""
        marks = bytearray(end - start)
        for s, e, kind in spans:
            if kind == excluded and s < end and start < e:
                marks[max(s, start) - start:min(e, end) - start] = b"\x01" * (min(e, end) - max(s, start))
        return sum(marks)

    def sentence_status(start: int, end: int) -> str:
        quoted, excluded = covered(start, end, False), covered(start, end, True)
        if quoted + excluded >= COVERED_SHARE * (end - start):
            return "quoted" if quoted >= excluded else "excluded"
        return "partly quoted" if quoted else "partly excluded" if excluded else "not encoded"

    def number_status(start: int, end: int) -> str:
        hits = [excluded for s, e, excluded in spans if s <= start and end <= e]
        if any(not excluded for excluded in hits):
            return "quoted"
        return "excluded" if hits else "not encoded"

    found = [Span(a, b, text[a:b], sentence_status(a, b)) for a, b in sentences(text)]
    numbers = [Span(a, b, words, number_status(a, b)) for a, b, words in figures(text)]
    return CoverageReport(found, numbers)


#: How many characters of context oa:prefix and oa:suffix keep (fewer at the text's ends).
CONTEXT_CHARACTERS = 32


def context_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The oa:prefix and oa:suffix of the words at start..end: up to :data:`CONTEXT_CHARACTERS` either side.

    >>> context_around("It saw 12 attacks. Then more.", 7, 17)
    ('It saw ', '. Then more.')
    """
    return text[max(0, start - CONTEXT_CHARACTERS):start], text[end:end + CONTEXT_CHARACTERS]


@dataclass
class AnchorReport:
    """The outcome of :func:`anchor_quotes`: how many quotes were checked and changed, and those it could not place."""

    checked: int = 0
    changed: list[str] = field(default_factory=list)
    problems: list[QuoteProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _occurrences(text: str, exact: str) -> list[int]:
    found, start = [], text.find(exact)
    while start >= 0 and exact:
        found.append(start)
        start = text.find(exact, start + 1)
    return found


def anchor_quotes(text: str, graph: Graph) -> AnchorReport:
    """Compute every quote's offsets, prefix and suffix from its exact words, in place.

    An analyst writes ``oa:exact``; this sets the TextPositionSelector's ``oa:start``/``oa:end``
    (adding the selector where missing) and, where missing or wrong, the quote's ``oa:prefix``/``oa:suffix``
    (:data:`CONTEXT_CHARACTERS` around it). Words that occur more than once are placed by the
    hints already given (a prefix or suffix that matches one occurrence, or a start at one);
    without a hint they are a problem naming the occurrences, and nothing of that quote changes.

    >>> from rdflib import BNode, Literal
    >>> g = Graph(); ev, q = BNode(), BNode()
    >>> for t in [(URIRef("urn:claim"), KG.evidence, ev), (ev, OA.hasSelector, q), (q, RDF.type, OA.TextQuoteSelector),
    ...           (q, OA.exact, Literal("153 attacks"))]: _ = g.add(t)
    >>> report = anchor_quotes("ISIS claimed 153 attacks in six months.", g)
    >>> report.changed, [int(g.value(s, OA.start)) for s in g.subjects(RDF.type, OA.TextPositionSelector)]
    (['<urn:claim>'], [13])
    """
    from rdflib import BNode, Literal
    from rdflib.namespace import XSD

    report = AnchorReport()
    for prop in (KG.evidence, KG.excludes):
        for owner, resource in sorted(graph.subject_objects(prop), key=str):
            quote = next((s for s in graph.objects(resource, OA.hasSelector)
                          if (s, RDF.type, OA.TextQuoteSelector) in graph), None)
            if quote is None or graph.value(quote, OA.exact) is None:
                continue
            report.checked += 1
            name = shorten(owner) if prop == KG.evidence else f"excluded passage of {shorten(owner)}"
            exact = str(graph.value(quote, OA.exact))
            position = next((s for s in graph.objects(resource, OA.hasSelector)
                             if (s, RDF.type, OA.TextPositionSelector) in graph), None)
            hints = {"prefix": graph.value(quote, OA.prefix), "suffix": graph.value(quote, OA.suffix),
                     "start": graph.value(position, OA.start) if position is not None else None}
            found = _occurrences(text, exact)
            if len(found) > 1:
                fitting = [at for at in found
                           if (hints["prefix"] is None or text[:at].endswith(str(hints["prefix"])))
                           and (hints["suffix"] is None or text[at + len(exact):].startswith(str(hints["suffix"])))
                           and (hints["start"] is None or _int(hints["start"]) == at)]
                found = fitting if len(fitting) == 1 else found
            if not found:
                offset, window, similarity = nearest(text, exact)
                report.problems.append(QuoteProblem(name, f"the words {exact!r} are not in the text", offset, window,
                                                    similarity))
                continue
            if len(found) > 1:
                report.problems.append(QuoteProblem(name, f"the words {exact!r} occur {len(found)} times (at "
                                                          f"{', '.join(map(str, found))}); give oa:prefix, oa:suffix or "
                                                          "oa:start to say which"))
                continue
            start = found[0]
            end = start + len(exact)
            wanted = {}
            prefix, suffix = context_around(text, start, end)
            if hints["prefix"] is None or not text[:start].endswith(str(hints["prefix"])):  # a right one is kept
                wanted[(quote, OA.prefix)] = Literal(prefix)
            if hints["suffix"] is None or not text[end:].startswith(str(hints["suffix"])):
                wanted[(quote, OA.suffix)] = Literal(suffix)
            if position is None:
                position = BNode()
                graph.add((resource, OA.hasSelector, position))
                graph.add((position, RDF.type, OA.TextPositionSelector))
            wanted[(position, OA.start)] = Literal(start, datatype=XSD.integer)
            wanted[(position, OA.end)] = Literal(end, datatype=XSD.integer)
            if any(graph.value(*key) != value for key, value in wanted.items()):
                for (subject, predicate), value in wanted.items():
                    graph.set((subject, predicate, value))
                report.changed.append(name)
    return report
