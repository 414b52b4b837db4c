"""The catalogue of stored SPARQL queries and how they run with bound parameters.

Each ``queries/NAME.rq`` starts with a grlc-style header of ``#+`` comment lines,
read as YAML: ``summary``, ``description``, ``tags`` and ``params`` (each with
``name``, ``type`` — ``iri``, ``string``, ``integer`` or ``decimal`` —, ``default``,
``example``, ``description`` and ``required``); ``requires_one_of`` lists parameters
of which at least one must be given; ``page_keys`` lists the keys a long listing is paged
by (:mod:`kg.queries.paging`); ``lookups`` names the variable a number parameter is looked
up as (on Oxigraph, which stores numbers by value: the index instead of a comparison per row).

Parameters are bound as RDF terms in a ``VALUES`` block placed at the start of the
query's outer ``WHERE`` group: the text a user gives becomes one escaped literal or one
checked IRI, never query syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from rdflib import XSD, Literal, Node, URIRef

from kg.model.deadline import within
from kg.model.errors import BadInputError, QueryParameterError
from kg.model.namespaces import PREFIXES, claim_iri
from kg.model.resources import queries_dir
from kg.queries.engines import Engine, QueryLimitError, SelectResult
from kg.queries.paging import MANY_KEYS, each_restricted, inner_key_variables, key_values, keyed_page, keys_inside
from kg.queries.sparqltext import (
    MAX_DEPTH,
    bound_by_outer_patterns,
    nesting_depth,
    order_conditions,
    ordered_by,
    outer_group_start,
    page,
    projected_variables,
    service_calls,
)

PARAM_TYPES = ("iri", "string", "integer", "decimal")
_IRI_FORBIDDEN = re.compile(r'[\s<>"{}|^`\\]')
_PREFIX_DECL = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Param:
    """A parameter of a stored query."""

    name: str
    type: str = "iri"
    default: str | None = None
    example: str | None = None
    description: str = ""
    required: bool = False


#: The parameter of every stored query that leaves out retracted claims (kg retract).
INCLUDE_RETRACTED = Param(
    name="include_retracted", type="string", default="no", example="yes",
    description="Give yes to include retracted claims and sources (kg retract); by default they are left out.")


@dataclass(frozen=True)
class StoredQuery:
    """One stored query: its header and its SPARQL text.

    Attributes:
        name: The file name without ``.rq``; what ``kg query NAME`` takes.
        summary: The question it answers, in one line.
        description: What the answer holds.
        params: Its parameters.
        requires_one_of: Parameters of which at least one must be given.
        sparql: The SPARQL text, header included.
        path: Where it was read from, if from a file.
    """

    name: str
    summary: str
    description: str
    params: tuple[Param, ...]
    sparql: str
    tags: tuple[str, ...] = ()
    requires_one_of: tuple[str, ...] = ()
    path: Path | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    #: Which claim column cites each value column (``#+ evidence:``), for views that link values to evidence.
    evidence: dict[str, str] = field(default_factory=dict)
    #: The picture that goes with the answer (``#+ chart:``), if any.
    chart: str | None = None
    #: A query listing every key the answer can have, by which a page is read (``#+ page_keys:``).
    page_keys: str | None = None
    #: A query listing more keys, faster, used once ``page_keys`` lists more than
    #: :data:`~kg.queries.paging.MANY_KEYS` (``#+ page_keys: {keys: ..., when_many: ...}``).
    page_keys_when_many: str | None = None
    #: Number parameter -> the variable it is looked up as (``#+ lookups:``; Oxigraph only).
    lookups: dict[str, str] = field(default_factory=dict)
    #: A query finding the partitions given claims take part in, when the answer is kept (``#+ kept:``).
    kept: str | None = None
    #: A query finding, for given partitions, the values that restrict the answer to their rows (``#+ kept:``).
    kept_members: str | None = None
    #: Columns of a kept answer that are sums over claims (``#+ kept: {sums: [...]}``): kept by adding what
    #: changed claims add and taking away what they took.
    kept_sums: tuple[str, ...] = ()

    @classmethod
    def from_text(cls, sparql: str, *, name: str = "query", path: Path | None = None) -> StoredQuery:
        """Read a query and its ``#+`` header.

        >>> q = StoredQuery.from_text("#+ summary: Everything\\nSELECT * WHERE { ?s ?p ?o }")
        >>> q.summary, q.params
        ('Everything', ())
        """
        header_lines = [line[2:] for line in sparql.splitlines() if line.startswith("#+")]
        try:
            header = yaml.safe_load("\n".join(line[1:] if line.startswith(" ") else line for line in header_lines)) or {}
        except yaml.YAMLError as error:
            raise BadInputError(f"{path or name}: the #+ header is not valid YAML: {error}") from None
        if not isinstance(header, dict):
            raise BadInputError(f"{path or name}: the #+ header must be a mapping (summary:, params:, ...).")
        params = []
        for raw in header.get("params") or []:
            try:
                param = Param(**raw)
            except TypeError as error:
                raise BadInputError(f"{path or name}: bad parameter declaration {raw!r}: {error}") from None
            if param.type not in PARAM_TYPES:
                raise BadInputError(f"{path or name}: parameter {param.name} has type {param.type!r}; use one of {', '.join(PARAM_TYPES)}.")
            params.append(param)
        evidence = header.get("evidence") or {}
        if not isinstance(evidence, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in evidence.items()):
            raise BadInputError(f"{path or name}: #+ evidence: must map value columns to claim columns (value_a: claim_a).")
        body = "\n".join(line for line in sparql.splitlines() if not line.lstrip().startswith("#"))
        page_keys, page_keys_when_many = _page_keys(header.get("page_keys"), sparql, path or name)
        kept, kept_members, kept_sums = _kept(header.get("kept"), sparql, path or name)
        lookups = header.get("lookups") or {}
        numbers = {p.name for p in params if p.type in ("integer", "decimal")}
        if not isinstance(lookups, dict) or not all(k in numbers and isinstance(v, str) and f"?{v}" in body
                                                    for k, v in lookups.items()):
            raise BadInputError(f"{path or name}: #+ lookups: must map number parameters to variables of the "
                                "query (value: figure).")
        if "?include_retracted" in body and not any(p.name == "include_retracted" for p in params):
            params.append(INCLUDE_RETRACTED)  # every query that leaves out retracted claims offers them back
        return cls(
            name=name,
            summary=str(header.get("summary", "")).strip(),
            description=" ".join(str(header.get("description", "")).split()),
            params=tuple(params),
            sparql=sparql,
            tags=tuple(header.get("tags") or ()),
            requires_one_of=tuple(header.get("requires_one_of") or ()),
            path=path,
            prefixes={prefix or "": iri for prefix, iri in _PREFIX_DECL.findall(sparql)},
            evidence=dict(evidence),
            chart=str(header["chart"]) if header.get("chart") else None,
            page_keys=page_keys,
            page_keys_when_many=page_keys_when_many,
            lookups=dict(lookups),
            kept=kept,
            kept_members=kept_members,
            kept_sums=kept_sums,
        )

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise QueryParameterError(f"Query {self.name} has no parameter {name!r} (its parameters: {known}).")

    def bind(self, values: dict[str, str] | None = None, *, numbers_by_value: bool = False) -> str:
        """The SPARQL text with parameters bound, ready to run or to paste into a store's UI.

        Args:
            values: Parameter values as text (an IRI, a prefixed name, a string, a number).
                Parameters not given take their default.
            numbers_by_value: For an engine that stores numbers by value (Oxigraph): a number
                parameter named in ``#+ lookups:`` also binds its variable to the terms the number
                can be stored as, so that the engine looks it up in its index instead of
                comparing it with every figure (the query's own comparison stays).

        Raises:
            QueryParameterError: An unknown or missing parameter, or a malformed value.

        >>> q = load_catalogue()["figures-by-place"]
        >>> "VALUES (?measure ?subject ?include_retracted)" in q.bind({"subject": "actor:sdf"})
        True
        """
        return self._bound(self.sparql, values, numbers_by_value=numbers_by_value)

    def bind_page_keys(self, values: dict[str, str] | None = None, *, when_many: bool = False) -> str | None:
        """The ``#+ page_keys:`` query with the parameters bound as in :meth:`bind` (``None`` without one):
        given an actor, only the keys of the actor's claims; ``when_many``: the listing for when those are many.

        >>> "actor:isis" in load_catalogue()["claims-about-actor"].bind_page_keys().replace(
        ...     "<https://w3id.org/conflict-kg/id/actor/isis>", "actor:isis")
        True
        """
        keys = self.page_keys_when_many if when_many else self.page_keys
        return None if keys is None else self._bound(keys, values, numbers_by_value=False)

    def list_page_keys(self, engine: Engine, values: dict[str, str] | None = None) -> SelectResult:
        """Every key of the answer, to read a page by (:func:`kg.queries.paging.keyed_page`): the ``page_keys``
        listing; once it passes :data:`~kg.queries.paging.MANY_KEYS` keys, the ``when_many`` one instead — the
        keys are then most of the store's, and listing all of them is faster than finding each (at 10 M triples,
        the 39 k sources of claims about ISIS took 1.5 s to find, every source 0.1 s to list)."""
        keys = self.bind_page_keys(values)
        assert keys is not None
        if self.page_keys_when_many is None:
            return engine.select(keys)  # not max_rows: kg's own question, a row per key
        try:
            return engine.select(keys, max_rows=MANY_KEYS)
        except QueryLimitError:
            return engine.select(self.bind_page_keys(values, when_many=True))  # type: ignore[arg-type]

    def bind_keys(self, values: dict[str, str] | None, variables: Sequence[str], keys: Sequence[tuple[Node, ...]],
                  *, numbers_by_value: bool = False) -> str:
        """The query bound as by :meth:`bind` and restricted to the keys given (:mod:`kg.queries.paging`)."""
        sparql = keys_inside(self.sparql, variables, keys)
        return self._bound(sparql, values, numbers_by_value=numbers_by_value, keys=(variables, keys))

    def kept_digest(self) -> str:
        """What identifies this query's kept answer: the query as computed (default parameters) and how it is
        kept (:mod:`kg.queries.kept`)."""
        from kg.queries.kept import digest

        return digest(self.bind({}, numbers_by_value=True), self.kept or "")

    @property
    def partition_variables(self) -> list[str]:
        """The columns that partition a kept answer: those its ``#+ kept: partitions:`` query selects, or every
        column but the sums (a row per group)."""
        if self.kept_sums:
            return [name for name in projected_variables(self.sparql) or [] if name not in self.kept_sums]
        return [] if self.kept is None else (projected_variables(self.kept) or [])

    def bind_partitions(self, values: dict[str, str] | None, claims: Sequence[URIRef]) -> str:
        """The ``#+ kept:`` partitions query, parameters bound, for the given claims (:mod:`kg.queries.kept`)."""
        assert self.kept is not None
        return self._bound(self.kept, values, numbers_by_value=False, keys=(["claim"], [(c,) for c in claims]))

    def bind_restricted(self, values: dict[str, str] | None, members: SelectResult) -> str:
        """The query bound as by :meth:`bind`, each of the members' variables restricted to its values, at the
        start and in each group whose ``# kg:page-keys`` comment names it (:func:`kg.queries.paging.each_restricted`)."""
        sparql, blocks = each_restricted(self.sparql, members.variables, members.rows)
        return self._bound(sparql, values, numbers_by_value=True, blocks=blocks)

    def bind_claims_inside(self, values: dict[str, str] | None, claims: Sequence[URIRef]) -> str:
        """The query bound as by :meth:`bind`, with ``?claim`` restricted to the claims given in each group whose
        ``# kg:page-keys ?claim`` comment says so: what those claims add to each sum (``#+ kept: {sums: …}``)."""
        sparql, _ = each_restricted(self.sparql, ["claim"], [(c,) for c in claims])
        return self._bound(sparql, values, numbers_by_value=True)

    def bind_members(self, values: dict[str, str] | None, partitions: Sequence[tuple[Node, ...]]) -> str:
        """The ``#+ kept:`` members query, parameters bound, for the given partitions (:mod:`kg.queries.kept`)."""
        assert self.kept_members is not None
        return self._bound(self.kept_members, values, numbers_by_value=False, keys=(self.partition_variables, partitions))

    def _bound(self, sparql: str, values: dict[str, str] | None, *, numbers_by_value: bool,
               keys: tuple[Sequence[str], Sequence[tuple[Node, ...]]] | None = None, blocks: str = "") -> str:
        if blocks:
            sparql = self._bound(sparql, values, numbers_by_value=numbers_by_value, keys=keys)
            start = outer_group_start(sparql)
            assert start is not None  # the parameters were bound in it
            return sparql[:start] + "\n" + blocks + sparql[start:]
        if not self.params and keys is None:
            self.bindings(values)  # refuses unknown parameters
            return sparql
        start = outer_group_start(sparql)
        if start is None:
            raise BadInputError(f"{self.path or self.name}: no group pattern ({{ … }}) found to bind parameters in.")
        if not self.params:
            self.bindings(values)
            return sparql[:start] + "\n" + key_values(*keys) + sparql[start:]  # type: ignore[misc]
        bound = self.bindings(values)
        terms = [bound.get(param.name) for param in self.params]
        names = [f"?{p.name}" for p in self.params]
        row = " ".join(term.n3() if term is not None else "UNDEF" for term in terms)
        rows = [row]
        for name, variable in self.lookups.items() if numbers_by_value else ():
            if isinstance(bound.get(name), Literal):
                # In the parameters' one block: the planner starts from it, with the figure bound as well.
                names.append(f"?{variable}")
                rows = [f"{row} {form.n3()}" for row in rows for form in stored_forms(bound[name])]
        if keys is not None and len(rows) == 1:  # one block: the engine starts from parameters and keys at once
            block = "\n" + key_values(*keys, also=(names, rows[0]))
        else:
            block = f"\n  VALUES ({' '.join(names)}) {{ {' '.join(f'({row})' for row in rows)} }}\n"
            block += key_values(*keys) if keys is not None else ""
        return sparql[:start] + block + sparql[start:]

    def bindings(self, values: dict[str, str] | None = None) -> dict[str, Node]:
        """The RDF term each parameter is bound to (defaults applied; parameters left unbound are absent).

        Engines that can pre-bind variables take these (rdflib ``initBindings``, Oxigraph
        ``substitutions``); :meth:`bind` writes them as a ``VALUES`` block for the others.

        Raises:
            QueryParameterError: An unknown or missing parameter, or a malformed value.

        >>> load_catalogue()["figures-by-place"].bindings({"subject": "actor:sdf"})["subject"]
        rdflib.term.URIRef('https://w3id.org/conflict-kg/id/actor/sdf')
        """
        values = dict(values or {})
        for name in values:
            self.param(name)
        if self.requires_one_of and not any(values.get(name) not in (None, "") for name in self.requires_one_of):
            raise QueryParameterError(
                f"Query {self.name} needs at least one of: {', '.join(self.requires_one_of)} "
                f"(e.g. --param {self.requires_one_of[0]}=...)."
            )
        bound: dict[str, Node] = {}
        for param in self.params:
            raw = values.get(param.name, param.default)
            if raw in (None, ""):
                if param.required:
                    raise QueryParameterError(
                        f"Query {self.name} needs the parameter {param.name} ({param.description.strip()}); "
                        f"e.g. --param {param.name}={param.example or '...'}"
                    )
            else:
                bound[param.name] = self._term(param, str(raw))
        return bound

    def _term(self, param: Param, raw: str) -> Node:
        if param.type == "string":
            return Literal(raw)
        if param.type in ("integer", "decimal"):
            try:
                number = int(raw) if param.type == "integer" else Decimal(raw)
            except (ValueError, InvalidOperation):
                raise QueryParameterError(f"Parameter {param.name} must be an {param.type}, not {raw!r}.") from None
            return Literal(number, datatype=XSD.integer if param.type == "integer" else XSD.decimal)
        return self._iri(param, raw)

    def _iri(self, param: Param, raw: str) -> URIRef:
        text = raw.strip()
        named_claim = claim_iri(text)
        if named_claim is not None:  # SOURCE-ID/slug, as tables show claims
            return named_claim
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        elif re.match(r"^[A-Za-z][\w.-]*:[^/]", text) and not re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
            prefix, local = text.split(":", 1)
            namespace = self.prefixes.get(prefix) or PREFIXES.get(prefix)
            if namespace is None:
                raise QueryParameterError(
                    f"Parameter {param.name}: unknown prefix {prefix!r} in {raw!r}; use a full IRI or one of "
                    f"{', '.join(sorted(set(self.prefixes) | set(PREFIXES)))}."
                )
            text = namespace + local
        if not re.match(r"^[a-z][a-z0-9+.-]*:", text, re.I) or _IRI_FORBIDDEN.search(text):
            raise QueryParameterError(
                f"Parameter {param.name} must be an IRI (e.g. {param.example or 'actor:isis'}), not {raw!r}."
            )
        return URIRef(text)


def stored_forms(number: Literal) -> list[Literal]:
    """The terms a number can be stored as in a store that keeps numbers by value (Oxigraph: ``"0153"``,
    ``"153"`` and ``"+153"`` as integers are one term, ``"153.0"`` and ``"153"`` as decimals another):
    an integer when it is whole, a decimal, a double when it is exactly one.

    >>> [t.n3().split("^^")[0] for t in stored_forms(Literal("153.00", datatype=XSD.decimal))]
    ['"153"', '"153.00"', '"153.0"']
    >>> [t.n3() for t in stored_forms(Literal("0.1", datatype=XSD.decimal))]
    ['"0.1"^^<http://www.w3.org/2001/XMLSchema#decimal>']
    """
    value = Decimal(str(number))
    forms = [Literal(str(int(value)), datatype=XSD.integer)] if value == value.to_integral_value() else []
    forms.append(Literal(format(value, "f"), datatype=XSD.decimal))
    if Decimal(float(value)) == value:
        forms.append(Literal(repr(float(value)), datatype=XSD.double))
    return forms


def _page_keys(keys: Any, sparql: str, where: Path | str) -> tuple[str | None, str | None]:
    """The ``#+ page_keys:`` query — and its ``when_many`` listing, given ``{keys: ..., when_many: ...}`` — with the
    stored query's prefixes, checked against its ORDER BY."""
    if keys is None:
        return None, None
    when_many = None
    if isinstance(keys, dict):
        if set(keys) != {"keys", "when_many"} or not all(isinstance(text, str) for text in keys.values()):
            raise BadInputError(f"{where}: #+ page_keys: is a SELECT of the keys, or a mapping of keys: (that SELECT) "
                                "and when_many: (a SELECT of the same variables listing more keys, faster).")
        keys, when_many = keys["keys"], keys["when_many"]
    order, cuts = ordered_by(sparql)
    variables = projected_variables(keys) if isinstance(keys, str) else None
    if variables and not all(bound_by_outer_patterns(sparql, name) for name in variables):
        raise BadInputError(
            f"{where}: #+ page_keys: each key ({', '.join('?' + v for v in variables)}) must be bound by a triple "
            "pattern of the query's outer group (not only in an OPTIONAL, a UNION or a subquery): a row without "
            "its key would be read with every key.")
    if not variables or cuts or order[:len(variables)] != variables:
        raise BadInputError(
            f"{where}: #+ page_keys: must be a SELECT of named variables that the query's ORDER BY starts "
            f"with (ORDER BY starts with {', '.join('?' + v for v in order) or 'no variable'}), and the "
            "query must not cut its own answer (LIMIT/OFFSET).")
    if when_many is not None and projected_variables(when_many) != variables:
        raise BadInputError(f"{where}: #+ page_keys: when_many: must select the same variables as keys: "
                            f"({', '.join('?' + v for v in variables)}).")
    if not all(set(named) <= set(variables) for named in inner_key_variables(sparql)):
        raise BadInputError(f"{where}: a # kg:page-keys comment names a variable that is not one of the page's keys "
                            f"({', '.join('?' + v for v in variables)}).")
    declarations = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in _PREFIX_DECL.findall(sparql))
    return declarations + keys, None if when_many is None else declarations + when_many


def _kept(kept: Any, sparql: str, where: Path | str) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The ``#+ kept: {partitions: ..., members: ...}`` queries with the stored query's prefixes, checked
    against the query; or, for ``#+ kept: {sums: [...]}``, a description and the sums."""
    if kept is None:
        return None, None, ()
    if isinstance(kept, dict) and "sums" in kept:
        return _kept_sums(kept, sparql, where)
    partitions = kept.get("partitions") if isinstance(kept, dict) else None
    members = kept.get("members") if isinstance(kept, dict) else None
    variables = projected_variables(partitions) if isinstance(partitions, str) else None
    restricted = projected_variables(members) if isinstance(members, str) else None
    answer = projected_variables(sparql) or []
    if not variables or not set(variables) <= set(answer) or "?claim" not in partitions:
        raise BadInputError(
            f"{where}: #+ kept: needs partitions: a SELECT of columns of the answer that finds the partitions "
            "the claims ?claim take part in.")
    if not restricted or not all(bound_by_outer_patterns(sparql, name) for name in restricted):
        raise BadInputError(f"{where}: #+ kept: needs members: a SELECT that finds, for given partitions, values of "
                            "variables a triple pattern of the query's outer group binds, so that a VALUES block on "
                            "them restricts the answer to those partitions' rows.")
    _check_kept_order(sparql, where)
    declarations = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in _PREFIX_DECL.findall(sparql))
    return declarations + partitions, declarations + members, ()


def _kept_sums(kept: dict, sparql: str, where: Path | str) -> tuple[str, None, tuple[str, ...]]:
    sums = kept.get("sums")
    answer = projected_variables(sparql) or []
    if set(kept) != {"sums"} or not isinstance(sums, list) or not sums or not set(sums) < set(answer):
        raise BadInputError(f"{where}: #+ kept: sums: must list some (not all) columns of the answer, each a count "
                            "over claims, and nothing else.")
    if not any("claim" in named for named in inner_key_variables(sparql)):
        raise BadInputError(f"{where}: #+ kept: sums: needs a # kg:page-keys ?claim comment in each group that counts "
                            "claims, where kg restricts them to the changed ones.")
    _check_kept_order(sparql, where)
    return "sums: " + ", ".join(sums), None, tuple(sums)


def _check_kept_order(sparql: str, where: Path | str) -> None:
    """A kept answer is sorted by kg (:func:`kg.queries.kept.sort_key`): the query must be ordered by projected
    variables and not cut its own answer."""
    answer = projected_variables(sparql) or []
    conditions = order_conditions(sparql)
    _, cuts = ordered_by(sparql)
    if conditions is None or cuts or not all(name in answer for name, _ in conditions):
        raise BadInputError(f"{where}: #+ kept: the query must be ordered by projected variables (ORDER BY ?a "
                            "DESC(?b)…) and not cut its own answer (LIMIT/OFFSET).")


def load_catalogue(directory: str | Path | None = None) -> dict[str, StoredQuery]:
    """The stored queries, by name.

    >>> sorted(load_catalogue())[:3]
    ['claims-about-actor', 'claims-by-actor', 'communication']
    """
    directory = Path(directory) if directory else queries_dir()
    return {
        path.stem: StoredQuery.from_text(path.read_text(encoding="utf-8"), name=path.stem, path=path)
        for path in sorted(directory.glob("*.rq"))
    }


def get_query(name: str) -> StoredQuery:
    """A stored query by name, or a clear error listing the names."""
    catalogue = load_catalogue()
    if name not in catalogue:
        raise QueryParameterError(f"No stored query named {name!r}. Stored queries: {', '.join(catalogue)}.")
    return catalogue[name]


@dataclass(frozen=True)
class QueryResult:
    """A stored query's answer.

    Attributes:
        query: The query that ran.
        sparql: The exact SPARQL that ran, parameters bound.
        variables: Column names.
        terms: The rows as rdflib terms (``None`` where unbound).
    """

    query: StoredQuery
    sparql: str
    variables: list[str]
    terms: list[tuple[Node | None, ...]]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts of Python values (int, Decimal, bool, str; IRIs as URIRef)."""
        return [
            {var: (term.toPython() if isinstance(term, Literal) else term) for var, term in zip(self.variables, row)}
            for row in self.terms
        ]


def run_query(
    query: str | StoredQuery,
    *,
    store=None,
    engine: Engine | None = None,
    params: dict[str, str] | None = None,
    timeout: float | None = None,
    max_rows: int | None = None,
    allow_service: Iterable[str] = (),
    limit: int | None = None,
    offset: int = 0,
) -> QueryResult:
    """Run a stored query (by name) or a :class:`StoredQuery` with bound parameters.

    Args:
        query: A stored query's name, or a query object.
        store: A :class:`~kg.stores.oxigraph.FactStore` to run it on.
        engine: Or any :class:`~kg.queries.engines.Engine` (embedded Oxigraph, rdflib, remote).
        params: Parameter values as text; defaults apply to the rest.
        timeout: Seconds to wait for the answer (``None``: no limit).
        max_rows: The most rows accepted (``None``: no limit).
        allow_service: Hosts a ``SERVICE`` clause may call; by default none.
        limit: One page of the answer: at most this many rows (``None``: all).
        offset: Rows of the answer to skip before the page.

    Raises:
        QueryLimitError: The answer took longer than ``timeout`` or has more than ``max_rows`` rows.
        BadInputError: The query is nested too deeply or calls a ``SERVICE`` not allowed.

    >>> from kg import FactStore
    >>> store = FactStore.in_memory(); _ = store.load()
    >>> [(r["place_label"], r["value"], r["qualifier"]) for r in run_query("figures-by-place", store=store).rows]
    [('Iraq', 40, 'exact'), ('Syria', Decimal('33.3'), 'approximate')]
    >>> [r["place_label"] for r in run_query("figures-by-place", store=store, limit=1, offset=1).rows]
    ['Syria']
    """
    stored = get_query(query) if isinstance(query, str) else query
    if engine is None:
        if store is None:
            raise QueryParameterError("run_query needs a store or an engine to run on.")
        engine = store.engine
    oxigraph = getattr(engine, "oxigraph", False)
    try:
        bound = stored.bind(params, numbers_by_value=oxigraph)
        sparql = page(bound, limit=limit, offset=offset)
    except ValueError as error:
        raise QueryParameterError(f"{stored.path or stored.name} cannot be paged: {error}.") from None
    check_query_text(sparql, allow_service=allow_service, name=str(stored.path or stored.name))
    kept = getattr(engine, "kept", None)
    if kept is not None and stored.kept is not None and stored.bindings(params) == stored.bindings({}):
        # A page of the answer kept with the store (kg.queries.kept), if it still holds the store as it is.
        answer = kept.page(stored.name, stored.kept_digest(), limit=limit, offset=offset, max_rows=max_rows)
        if answer is not None:
            return QueryResult(stored, sparql, answer.variables, answer.rows)
    if getattr(engine, "binds_variables", False) and stored.params:
        # The engine's own mechanism (Oxigraph substitutions, rdflib initBindings): the query text stays as written.
        bindings = stored.bindings(params)
        text = page(stored.sparql, limit=limit, offset=offset)
        work = lambda: engine.select(text, max_rows=max_rows, bindings=bindings)
    elif limit is not None and stored.page_keys is not None and oxigraph:
        def work() -> SelectResult:
            whole = lambda text: engine.select(text, max_rows=max_rows)
            keys = stored.list_page_keys(engine, params)
            restricted = lambda variables, batch: stored.bind_keys(params, variables, batch, numbers_by_value=True)
            return keyed_page(whole, restricted, keys, limit=limit, offset=offset) or whole(sparql)
    else:
        work = lambda: engine.select(sparql, max_rows=max_rows)
    result: SelectResult = within(timeout, work, timed_out=lambda: QueryLimitError(
        f"The query did not finish within {timeout:g} s, kg's time limit; kg stopped waiting for it. Narrow the "
        "question, or raise the limit with --timeout."))
    return QueryResult(stored, sparql, result.variables, result.rows)


def unknown_terms(stored: StoredQuery, values: dict[str, str], engine: Engine) -> None:
    """Refuse IRI parameters that name nothing in the store, suggesting the closest known terms.

    A typo (``measure:no-such-measure``, ``period:2024-H1``) would otherwise answer "no rows".

    Raises:
        QueryParameterError: Naming the unknown term and up to three close ones of the same kind.

    >>> from kg import FactStore
    >>> store = FactStore.in_memory(); _ = store.load()
    >>> unknown_terms(load_catalogue()["compare-periods"], {"period_a": "period:2024-H1"}, store.engine)
    Traceback (most recent call last):
    ...
    kg.model.errors.QueryParameterError: Parameter period_a: period:2024-H1 is not in the store. Did you mean period:2024-h1, period:2024, period:2023? `kg terms period` lists them.
    """
    import difflib

    from kg.model.namespaces import DATA_PREFIXES

    for name, raw in values.items():
        param = stored.param(name)
        if param.type != "iri" or raw in (None, ""):
            continue
        iri = stored._iri(param, str(raw))
        found = engine.select(f"SELECT ?x WHERE {{ {{ {iri.n3()} ?p ?o }} UNION {{ ?s ?p {iri.n3()} }} BIND (1 AS ?x) }} LIMIT 1")
        if found.rows:
            continue
        kind = next((k for k, ns in DATA_PREFIXES.items() if str(iri).startswith(ns)), None)
        suggestion = ""
        if kind is not None:
            namespace = DATA_PREFIXES[kind]
            known = [str(r[0]) for r in engine.select(
                f"SELECT DISTINCT ?t WHERE {{ ?t a ?type FILTER (isIRI(?t) && STRSTARTS(STR(?t), \"{namespace}\")) }}").rows]
            names = {f"{kind}:{k[len(namespace):]}": k for k in known}
            close = difflib.get_close_matches(f"{kind}:{str(iri)[len(namespace):]}", list(names), n=3, cutoff=0.5)
            suggestion = (f" Did you mean {', '.join(close)}?" if close else "") + f" `kg terms {kind}` lists them."
        shown = f"{kind}:{str(iri)[len(DATA_PREFIXES[kind]):]}" if kind else f"<{iri}>"
        raise QueryParameterError(f"Parameter {name}: {shown} is not in the store.{suggestion}")


def check_query_text(sparql: str, *, allow_service: Iterable[str] = (), name: str = "the query") -> None:
    """Refuse a query nested too deeply, or one that calls a ``SERVICE`` not allowed.

    Args:
        allow_service: Host names (``host`` or ``host:port``) that ``SERVICE`` may call.

    Raises:
        BadInputError: Saying which limit and how to lift it.

    >>> check_query_text("SELECT * { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.model.errors.BadInputError: the query calls SERVICE <http://evil.example/sparql>: a federated query makes kg send requests to other hosts, so it is off by default. Allow the hosts it may call with --allow-service evil.example (the hosts only).
    """
    depth = nesting_depth(sparql)
    if depth > MAX_DEPTH:
        raise BadInputError(f"{name} is nested {depth} brackets deep; kg accepts at most {MAX_DEPTH} (deeper queries "
                            "crash SPARQL parsers). Flatten it.")
    allowed = {host.lower() for host in allow_service}
    for target in service_calls(sparql):
        if target is None:
            raise BadInputError(f"{name} calls SERVICE with a variable or an unknown prefix: kg cannot tell which host "
                                "it would contact, so it refuses it. Name the service's IRI.")
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
        with_port = f"{host}:{parts.port}" if parts.port else host
        if host not in allowed and with_port not in allowed:
            raise BadInputError(
                f"{name} calls SERVICE <{target}>: a federated query makes kg send requests to other hosts, so it is "
                f"off by default. Allow the hosts it may call with --allow-service {with_port or target} (the hosts only)."
            )
