"""Answers kept with the store: a listing of the whole store, kept sorted beside it and brought up to date by
each write for what that write changed, so that any page of it costs what it shows.

Some listings cannot be read key by key (:mod:`kg.queries.paging`): counts over every claim, pairs across
every source, an order by the claim holder's name. Their first row depends on every claim, so the engine
computes the whole answer for any page of it. A stored query with a ``#+ kept:`` header is kept instead:
kg stores its whole answer (with the default parameters) in a SQLite file beside an embedded store, each
row with a sort key that reproduces the query's ``ORDER BY``, and reads a page from it by that key.

The header names a query that finds the *partitions* a set of claims takes part in — columns of the answer
whose rows are computed together (a figure's sources; the pairs of one measure, period and place; one stance
claim's rows). When ``kg load``, ``kg add``, ``kg retract`` or ``kg remove`` changes claims, kg finds their
partitions before and after the write, runs the query restricted to those partitions (a ``VALUES`` block on
variables the query's own triple patterns bind), and replaces just their rows. Anything else — the ontology
or reference data changed, a source that describes what other graphs use, a write kg did not follow — makes
kg compute the whole answer again. Counts over claims (``#+ kept: {sums: [count]}``: ``overview``) are kept by
adding what the changed claims count for after the write and taking away what they counted for before.

Every write to the store also gives it a new *generation* (a random token in the manifest graph, changed in
the write's own transaction); the kept answers hold the generation they were computed at, and a reader uses
them only when the store still has it. A kept answer is therefore never stale: at worst it is absent and the
query runs as written. kg also checks, when it computes a whole answer, that its sort keys give the engine's
own order; where they do not (numbers beside texts in one column, texts of several languages), the query is
not kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path

from rdflib import XSD, BNode, Literal, Node, URIRef

from kg.queries.engines import Cell, SelectResult, too_many_rows

#: The numeric datatypes Oxigraph orders by value.
_NUMBERS = {str(t) for t in (XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long, XSD.short,
                             XSD.nonNegativeInteger, XSD.positiveInteger, XSD.negativeInteger,
                             XSD.nonPositiveInteger, XSD.unsignedInt, XSD.unsignedLong)}
_STRING, _INTEGER, _DATE = str(XSD.string), str(XSD.integer), str(XSD.date)
#: Dates and date-times (no time zone, four-digit years) whose text orders as their value does.
_DATES = {str(XSD.date): re.compile(r"\d{4}-\d{2}-\d{2}"),
          str(XSD.dateTime): re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?")}
#: Partitions restricted per query run (each is a row of a ``VALUES`` block).
PARTITIONS_PER_RUN = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (query TEXT PRIMARY KEY, digest TEXT NOT NULL, variables TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refused (query TEXT PRIMARY KEY, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (query TEXT NOT NULL, partition TEXT NOT NULL, sort BLOB NOT NULL, row TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_in_order ON rows (query, sort);
CREATE INDEX IF NOT EXISTS rows_by_partition ON rows (query, partition);
"""


class Unordered(Exception):
    """A column holds terms whose order kg does not reproduce: the answer is not kept."""


class Inconsistent(Exception):
    """Kept sums that would go below zero: they did not hold the store; kg computes them whole again."""


# --- sort keys -----------------------------------------------------------------------------------

def _text(value: str) -> bytes:
    # UTF-8 orders as the code points do; 0x00 escaped and a 0x00 0x00 end, so that "a" sorts before "ab".
    return value.encode("utf-8").replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def _number(value: float) -> bytes:
    (bits,) = struct.unpack(">Q", struct.pack(">d", value))
    return struct.pack(">Q", bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63)


def term_order(cell: Cell) -> tuple[int, bytes, str]:
    """How a term sorts in an ORDER BY: its kind (unbound, blank node, IRI, number, text, date, date-time),
    its sortable bytes, and its language (texts in several languages in one column have no order kg
    reproduces). Dates and date-times only without a time zone, in the canonical form (their text then
    orders as their value).

    >>> from kg.queries.engines import term_cell
    >>> term_order(term_cell(Literal(2)))[1] < term_order(term_cell(Literal("10", datatype=XSD.decimal)))[1]
    True
    >>> term_order(term_cell(Literal("a")))[1] < term_order(term_cell(Literal("ab")))[1] < term_order(term_cell(Literal("b")))[1]
    True

    Raises:
        Unordered: A literal that is neither a number, a text nor a date (a boolean, a date with a time zone).
    """
    if cell is None:
        return 0, b"\x00", ""
    if cell[0] == "b":
        return 1, b"\x01" + _text(cell[1]), ""
    if cell[0] == "i":
        return 2, b"\x02" + _text(cell[1]), ""
    _, value, datatype, language = cell
    if language:
        return 4, b"\x04" + _text(value), language
    if datatype in _NUMBERS:
        try:
            return 3, b"\x03" + _number(float(value)), ""
        except ValueError:
            raise Unordered(f"{value!r} is not a number") from None
    if datatype in ("", _STRING):
        return 4, b"\x04" + _text(value), ""
    form = _DATES.get(datatype)
    if form is not None and form.fullmatch(value):
        kind = 5 if datatype == _DATE else 6
        return kind, bytes([kind]) + _text(value), ""
    raise Unordered(f"{value!r} ({datatype}) has no order kg reproduces")


def sort_key(row: Sequence[Cell], conditions: Sequence[tuple[int, bool]]) -> bytes:
    """The bytes that sort rows (of terms as :func:`~kg.queries.engines.term_cell` writes them) as the
    ``ORDER BY`` does (column index, descending), the whole row after as a tie-break (the stored queries order every row; the tie-break only
    makes the key total)."""
    parts = []
    for column, descending in conditions:
        encoded = term_order(row[column])[1]
        parts.append(bytes(255 - b for b in encoded) if descending else encoded)
    return b"".join(parts) + _text(json.dumps(list(row)))


def check_order(rows: Sequence[Sequence[Cell]], conditions: Sequence[tuple[int, bool]]) -> None:
    """Refuse columns whose terms kg cannot order as the engine does: numbers beside texts, texts of several
    languages (or plain and tagged).

    Raises:
        Unordered: Such a column.
    """
    for column, _ in conditions:
        kinds, languages = set(), set()
        for row in rows:
            kind, _, language = term_order(row[column])
            kinds.add(kind)
            if kind == 4:
                languages.add(language)
        if len(kinds & {3, 4, 5, 6}) > 1 or len(languages) > 1:
            raise Unordered(f"column {column} mixes numbers, texts or dates, or texts of several languages")


# --- rows as text ----------------------------------------------------------------------------------

def _decode(data: Cell) -> Node | None:
    if data is None:
        return None
    if data[0] == "i":
        return URIRef(data[1])
    if data[0] == "b":
        return BNode(data[1])
    _, value, datatype, language = data
    if language:
        return Literal(value, lang=language)
    return Literal(value, datatype=URIRef(datatype) if datatype and datatype != _STRING else None)


def terms(cells: Iterable[Cell]) -> tuple[Node | None, ...]:
    """Terms as :func:`~kg.queries.engines.term_cell` writes them, as rdflib's (as the engines give them)."""
    return tuple(_decode(cell) for cell in cells)


def partition_text(cells: Iterable[Cell]) -> str:
    """A partition's terms as the text kept with each of its rows (:func:`partition_terms` reads it back)."""
    return json.dumps(list(cells))


def partition_terms(text: str) -> tuple[Node | None, ...]:
    """The terms of a partition kept as text."""
    return tuple(_decode(t) for t in json.loads(text))


# --- the file --------------------------------------------------------------------------------------

def answers_path(store_path: Path) -> Path:
    """Where the kept answers of the store at ``store_path`` live: beside it (the store's folder is Oxigraph's).

    >>> answers_path(Path(".kg/store")).as_posix()
    '.kg/store-answers.sqlite'
    """
    return store_path.with_name(store_path.name + "-answers.sqlite")


def digest(sparql: str, partitions: str) -> str:
    """What a kept answer was computed from: the query as bound and its partitions query."""
    return hashlib.sha256((sparql + "\0" + partitions).encode("utf-8")).hexdigest()


class KeptAnswers:
    """The kept answers of one embedded store (a SQLite file; every change one SQLite transaction).

    Args:
        path: The file (:func:`answers_path`).
        generation: Reads the store's current generation (``None``: a store whose writes kg does not follow).
    """

    def __init__(self, path: Path, generation):
        self.path = Path(path)
        self.generation = generation

    # reading

    def page(self, name: str, query_digest: str, *, limit: int | None, offset: int = 0,
             max_rows: int | None = None) -> SelectResult | None:
        """A page of a kept answer (``limit`` rows after ``offset``; ``None``: all), or ``None`` when the
        answer is not kept, was computed from another text, or the store has changed since."""
        if not self.path.exists():
            return None
        current = self.generation()
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                kept = db.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
                answer = db.execute("SELECT digest, variables FROM answers WHERE query = ?", (name,)).fetchone()
                if current is None or kept is None or kept[0] != current or answer is None or answer[0] != query_digest:
                    return None
                if max_rows is not None and limit is None:
                    (count,) = db.execute("SELECT COUNT(*) FROM rows WHERE query = ?", (name,)).fetchone()
                    if count > max_rows:
                        raise too_many_rows(max_rows)
                rows = db.execute("SELECT row FROM rows WHERE query = ? ORDER BY sort LIMIT ? OFFSET ?",
                                  (name, -1 if limit is None else limit, offset)).fetchall()
                # The store may have been written while the page was read: then it does not count.
                if self.generation() != current:
                    return None
            return SelectResult(json.loads(answer[1]), [terms(json.loads(r)) for (r,) in rows])
        except (sqlite3.DatabaseError, ValueError, TypeError, IndexError, KeyError):
            return None  # a file kg cannot read is as good as none: the query runs as written

    def kept_generation(self) -> str | None:
        """The generation the kept answers were computed at (``None``: none kept)."""
        return self._read("SELECT key, value FROM state").get("generation")

    def digests(self) -> dict[str, str]:
        """The text each kept answer was computed from (:func:`digest`), by query name."""
        return self._read("SELECT query, digest FROM answers")

    def refused(self) -> dict[str, str]:
        """Queries found not to be keepable (an order kg does not reproduce), with the text they were computed from."""
        return self._read("SELECT query, digest FROM refused")

    def _read(self, sql: str) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                return dict(db.execute(sql).fetchall())
        except sqlite3.DatabaseError:
            return {}

    def partitions(self, name: str) -> int:
        """How many partitions a kept answer has (for reports and tests)."""
        with closing(self._connect()) as db:
            (count,) = db.execute("SELECT COUNT(DISTINCT partition) FROM rows WHERE query = ?", (name,)).fetchone()
        return count

    # writing

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.executescript(_SCHEMA)
        return db

    def forget(self) -> None:
        """Drop every kept answer (nothing is kept until the next whole computation)."""
        self.path.unlink(missing_ok=True)

    def save(self, generation: str, whole: dict[str, tuple[str, SelectResult, list[int], list[tuple[int, bool]]]],
             changed: dict[str, tuple[list[str], SelectResult, list[int], list[tuple[int, bool]]]],
             sums: dict[str, tuple[list, list, list[int], list[tuple[int, bool]], list[int]]] | None = None, *,
             refused: dict[str, str] | None = None, only: bool = False) -> None:
        """In one transaction: replace whole answers, and the rows of some partitions of others; then record the
        generation they hold.

        Args:
            whole: Query name → (digest, its whole answer, the partition columns, the order conditions).
            changed: Query name → (the partitions recomputed, as :func:`partition_text`, the rows they now
                have — theirs only —, the partition columns, the order conditions).
            sums: Query name → (what the changed claims added to each row's sums before the write, what they add
                after it, the partition columns — every column but the sums —, the order conditions, the sum
                columns). A row whose sums come to zero leaves the answer (a count's group without claims).
            refused: Queries not kept (an order kg does not reproduce) → the text they were computed from.
            only: The answers in ``whole`` are all there are now (the others are dropped).

        Raises:
            Inconsistent: A sum would go below zero (nothing is saved).
        """
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if only:
                    db.execute("DELETE FROM rows")
                    db.execute("DELETE FROM answers")
                    db.execute("DELETE FROM refused")
                for name, query_digest in (refused or {}).items():
                    db.execute("DELETE FROM rows WHERE query = ?", (name,))
                    db.execute("DELETE FROM answers WHERE query = ?", (name,))
                    db.execute("INSERT OR REPLACE INTO refused VALUES (?, ?)", (name, query_digest))
                for name, (query_digest, answer, columns, conditions) in whole.items():
                    db.execute("DELETE FROM refused WHERE query = ?", (name,))
                    db.execute("DELETE FROM rows WHERE query = ?", (name,))
                    db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)",
                               (name, query_digest, json.dumps(answer.variables)))
                    db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", _rows(name, answer.rows, columns, conditions))
                for name, (partitions, answer, columns, conditions) in changed.items():
                    db.executemany("DELETE FROM rows WHERE query = ? AND partition = ?", [(name, p) for p in partitions])
                    db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", _rows(name, answer.rows, columns, conditions))
                for name, (taken, added, columns, conditions, summed) in (sums or {}).items():
                    _add_sums(db, name, taken, added, columns, conditions, summed)
                db.execute("INSERT OR REPLACE INTO state VALUES ('generation', ?)", (generation,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise


def _add_sums(db: sqlite3.Connection, name: str, taken, added, columns: list[int], conditions: list[tuple[int, bool]],
              summed: list[int]) -> None:
    deltas: dict[str, tuple[tuple, list[int]]] = {}
    for rows, sign in ((taken, -1), (added, 1)):
        for row in rows:
            entry = deltas.setdefault(partition_text(row[c] for c in columns), (tuple(row), [0] * len(summed)))
            for i, column in enumerate(summed):
                entry[1][i] += sign * int(row[column][1])
    for partition, (template, delta) in deltas.items():
        if not any(delta):
            continue
        stored = db.execute("SELECT row FROM rows WHERE query = ? AND partition = ?", (name, partition)).fetchall()
        if len(stored) > 1:
            raise Inconsistent(f"{len(stored)} rows kept for one group of {name}")
        row = list(json.loads(stored[0][0]) if stored else template)
        for i, column in enumerate(summed):
            value = (int(row[column][1]) if stored else 0) + delta[i]
            if value < 0:
                raise Inconsistent(f"a sum of {name} would be {value}")
            row[column] = ["l", str(value), _INTEGER, ""]
        db.execute("DELETE FROM rows WHERE query = ? AND partition = ?", (name, partition))
        if any(int(row[column][1]) for column in summed):
            db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", _rows(name, [tuple(row)], columns, conditions))


def _rows(name: str, rows, columns: list[int], conditions: list[tuple[int, bool]]):
    for row in rows:
        yield (name, partition_text(row[c] for c in columns), sort_key(row, conditions), json.dumps(list(row)))

