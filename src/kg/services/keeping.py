"""Keeping answers up to date as the store changes (:mod:`kg.queries.kept` says what is kept and why).

Every service that writes wraps its write in :func:`keeping`, naming what it changes (graphs, or the claims
and sources it retracts). Before the write, kg finds the partitions of the changed claims in each kept
answer; after it, their partitions again, and recomputes the union of both — or the whole answer, when the
kept answers did not hold the store as it was, when the ontology or reference data changed, or when a
changed source describes something other graphs also use (then other claims' rows may change too).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rdflib import URIRef

from kg.model.namespaces import HISTORY_GRAPH, KG, MANIFEST_GRAPH, RETRACTIONS_GRAPH, SOURCE_TYPES
from kg.queries.catalogue import StoredQuery, load_catalogue
from kg.queries.kept import (PARTITIONS_PER_RUN, Inconsistent, KeptAnswers, Unordered, check_order, partition_terms,
                             partition_text)

#: Past this many changed claims, kg computes kept answers whole (one query each, not thousands of partitions).
MOST_CLAIMS_FOLLOWED = 5000


def kept_queries() -> list[StoredQuery]:
    """The stored queries whose answers are kept."""
    return [query for query in load_catalogue().values() if query.kept is not None]


@contextmanager
def keeping(store, *, graphs: Iterable[str] = (), targets: Iterable[str] = ()) -> Iterator[None]:
    """Bring the store's kept answers up to date with the write done inside the ``with`` block.

    Args:
        graphs: Graphs the write adds, replaces or removes.
        targets: Claims and sources whose retraction the write records or withdraws.

    Nothing happens on a store that keeps no answers (in memory, a server). If the write fails, the kept
    answers stay as they were: the store's generation tells readers they no longer hold it.
    """
    kept = _kept_answers(store)
    if kept is None:
        yield
        return
    graphs, targets = [str(g) for g in graphs], [str(t) for t in targets]
    queries = kept_queries()
    generation = kept.kept_generation()
    fresh = generation is not None and generation == store.generation()
    current, stale = _followed_and_stale(kept, queries)
    before = _followed(store, graphs, targets) if fresh else None
    partitions, taken = None, None
    if before is not None:
        # As the store is before the write: the partitions the changed claims are in, what they add to sums.
        partitions = {q.name: _partitions(store, q, before) for q in current if not q.kept_sums}
        taken = {q.name: _contributions(store, q, before) for q in current if q.kept_sums}
    yield
    after = _followed(store, graphs, targets) if before is not None else None
    if partitions is None or taken is None or after is None:
        rebuild(store, kept, queries)
        return
    changed, sums = {}, {}
    for query in current:
        if query.kept_sums:
            columns, conditions = _columns(query, taken[query.name].variables)
            summed = [taken[query.name].variables.index(name) for name in query.kept_sums]
            sums[query.name] = (taken[query.name].rows, _contributions(store, query, after).rows, columns, conditions,
                                summed)
        else:
            found = partitions[query.name] | _partitions(store, query, after)
            changed[query.name] = _recomputed(store, query, found)
    whole, unordered = _whole(store, stale)
    try:
        kept.save(store.generation(), whole, changed, sums, refused=unordered)
    except (Unordered, Inconsistent):
        rebuild(store, kept, queries)


def keep_up_to_date(store) -> bool:
    """Compute the kept answers whole if they do not hold the store as it is (none yet, or a write kg did not
    follow), or those of queries new or changed since; ``True`` if it computed any."""
    kept = _kept_answers(store)
    if kept is None:
        return False
    generation = kept.kept_generation()
    if generation is None or generation != store.generation():
        rebuild(store, kept)
        return True
    _, stale = _followed_and_stale(kept, kept_queries())
    if stale:
        whole, unordered = _whole(store, stale)
        kept.save(generation, whole, {}, refused=unordered)
    return bool(stale)


def _kept_answers(store) -> KeptAnswers | None:
    """The answers a store keeps, when kg may write them (an embedded store opened for writing)."""
    kept = getattr(getattr(store, "engine", None), "kept", None)
    return None if kept is None or getattr(store, "read_only", False) else kept


def _followed_and_stale(kept: KeptAnswers, queries: list[StoredQuery]) -> tuple[list[StoredQuery], list[StoredQuery]]:
    """The queries whose kept answers were computed from their present text (followed write by write), and
    those new or changed since (computed whole); one whose order kg found it cannot reproduce is neither,
    until the next whole computation."""
    known, refused = kept.digests(), kept.refused()
    digests = {query.name: query.kept_digest() for query in queries}
    current = [q for q in queries if known.get(q.name) == digests[q.name]]
    stale = [q for q in queries if q not in current and refused.get(q.name) != digests[q.name]]
    return current, stale


def rebuild(store, kept: KeptAnswers, queries: list[StoredQuery] | None = None) -> None:
    """Compute every kept answer whole (a query whose order kg cannot reproduce is recorded as such, not kept)."""
    whole, unordered = _whole(store, kept_queries() if queries is None else queries)
    kept.save(store.generation() or store.new_generation(), whole, {}, refused=unordered, only=True)


def _whole(store, queries: list[StoredQuery]) -> tuple[dict, dict[str, str]]:
    """Each query's whole answer, for :meth:`KeptAnswers.save`; and those whose order kg cannot reproduce.

    The queries run in threads, one per core: Oxigraph evaluates a query without holding Python's lock, so
    two whole answers take about the time of the longer (at 1 M, the four kept ones 17.5 s → 10.0 s).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    texts = [query.bind({}, numbers_by_value=True) for query in queries]
    with ThreadPoolExecutor(max_workers=max(1, min(len(texts), os.cpu_count() or 1))) as pool:
        answers = list(pool.map(store.engine.select_cells, texts))
    whole, unordered = {}, {}
    for query, answer in zip(queries, answers):
        columns, conditions = _columns(query, answer.variables)
        try:
            check_order(answer.rows, conditions)
        except Unordered:
            unordered[query.name] = query.kept_digest()
            continue
        whole[query.name] = (query.kept_digest(), answer, columns, conditions)
    return whole, unordered


def _columns(query: StoredQuery, variables: list[str]) -> tuple[list[int], list[tuple[int, bool]]]:
    from kg.queries.sparqltext import order_conditions

    partition = [variables.index(name) for name in query.partition_variables]
    conditions = [(variables.index(name), descending) for name, descending in order_conditions(query.sparql) or []]
    return partition, conditions


def _followed(store, graphs: list[str], targets: list[str]) -> list[URIRef] | None:
    """The claims the write touches, as the store now holds them; ``None`` when kg must compute answers whole."""
    if not graphs and not targets:
        return []
    if len(graphs) + len(targets) > MOST_CLAIMS_FOLLOWED:
        return None
    stored = set(store.file_hashes())  # the manifest: what graphs the store holds, without counting their triples
    present = [g for g in graphs if g in stored]
    if present:
        values = " ".join(f"<{g}>" for g in present)
        sources = {str(row[0]) for row in store.select(
            f"""SELECT DISTINCT ?g WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?g a ?type
                FILTER (?type IN ({', '.join(t.n3() for t in SOURCE_TYPES)})) }} }}""").rows}
        if set(present) - sources:
            return None  # the ontology or reference data: every answer may change
    claims: set[URIRef] = set()
    if present:
        values = " ".join(f"<{g}>" for g in present)
        claims |= {row[0] for row in store.select(
            f"SELECT DISTINCT ?claim WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?claim <{KG.statedIn}> ?s }} }}").rows}
    if targets:
        values = " ".join(f"<{t}>" for t in targets)
        claims |= {row[0] for row in store.select(
            f"""SELECT DISTINCT ?claim WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{
                  {{ ?t <{KG.statedIn}> ?s BIND (?t AS ?claim) }} UNION {{ ?claim <{KG.statedIn}> ?t }} }} }}""").rows}
    if len(claims) > MOST_CLAIMS_FOLLOWED or (present and _shares(store, present)):
        return None
    return sorted(claims)


def _shares(store, graphs: list[str]) -> bool:
    """Whether a graph describes something (besides its claims and its source) that another graph also uses."""
    values = " ".join(f"<{g}>" for g in graphs)
    skipped = ", ".join(f"<{g}>" for g in (MANIFEST_GRAPH, HISTORY_GRAPH, RETRACTIONS_GRAPH))
    return bool(store.select(f"""SELECT ?s WHERE {{ VALUES ?g {{ {values} }}
        GRAPH ?g {{ ?s ?p ?o }} FILTER (isIRI(?s) && ?s != ?g)
        FILTER NOT EXISTS {{ GRAPH ?g {{ ?s <{KG.statedIn}> ?source }} }}
        GRAPH ?other {{ {{ ?s ?q ?r }} UNION {{ ?x ?q ?s }} }}
        FILTER (?other != ?g && ?other NOT IN ({skipped}))
    }} LIMIT 1""").rows)


def _contributions(store, query: StoredQuery, claims: list[URIRef]):
    """What the given claims add to each row's sums (the query with ``?claim`` restricted to them where its
    ``# kg:page-keys ?claim`` comments say), as the store is now."""
    from kg.queries.engines import SelectResult
    from kg.queries.sparqltext import projected_variables

    if not claims:
        return SelectResult(projected_variables(query.sparql) or [], [])
    return store.engine.select_cells(query.bind_claims_inside({}, claims))


def _partitions(store, query: StoredQuery, claims: list[URIRef]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(claims), PARTITIONS_PER_RUN):
        answer = store.engine.select_cells(query.bind_partitions({}, claims[start:start + PARTITIONS_PER_RUN]))
        columns = [answer.variables.index(name) for name in query.partition_variables]
        found |= {partition_text(row[c] for c in columns) for row in answer.rows}
    return found


def _recomputed(store, query: StoredQuery, partitions: set[str]):
    """The rows of the given partitions as the store now answers them, with what :meth:`KeptAnswers.save` needs.

    The answer is restricted to the partitions' members (the claims, pairs… its ``members`` query finds for
    them): a ``VALUES`` block on variables the query's triple patterns bind, where the engine starts.
    Rows of other partitions that come back too are left out: those partitions did not change.
    """
    from kg.queries.engines import SelectResult
    from kg.queries.sparqltext import projected_variables

    ordered = sorted(partitions)
    rows, answer_variables = [], None
    for start in range(0, len(ordered), PARTITIONS_PER_RUN):
        keys = [partition_terms(p) for p in ordered[start:start + PARTITIONS_PER_RUN]]
        keys = [key for key in keys if None not in key]  # an unbound column restricts nothing: never a partition
        members = store.engine.select(query.bind_members({}, keys)) if keys else None
        if members is None or not members.rows:
            continue
        # All members of these partitions in one run: a partition's rows may count over all of them.
        answer = store.engine.select_cells(query.bind_restricted({}, members))
        answer_variables = answer.variables
        rows.extend(answer.rows)
    if answer_variables is None:  # nothing to run: the columns are the query's own
        answer_variables = projected_variables(query.sparql) or []
    columns, conditions = _columns(query, answer_variables)
    wanted = set(ordered)
    rows = [row for row in rows if partition_text(row[c] for c in columns) in wanted]
    check_order(rows, conditions)
    return ordered, SelectResult(answer_variables, rows), columns, conditions
