"""One notion of "the same figure" and "they disagree", written once and used everywhere:
the shapes that warn while a source is added, kg add itself, and the stored query agree on a
fixture with every case (FICTIONAL outlets in tests/fixtures/multi, plus the real facts)."""

from __future__ import annotations

import re

import pytest

from kg.model.resources import default_load_paths, queries_dir, shapes_path
from kg.queries.catalogue import run_query
from kg.services.add import check_files
from kg.stores.oxigraph import FactStore
from kg.validation.validator import validate

from conftest import FIXTURES, MULTI, MULTI_FILES

FRAGMENT = (queries_dir() / "fragments" / "same-figure.rq").read_text(encoding="utf-8")
FILES = [*default_load_paths(), *MULTI_FILES]
#: The kind of difference each shape reports.
SHAPES = {"kgsh:ConflictingFigureShape": "value conflict", "kgsh:RelayVariationShape": "relay variation",
          "kgsh:SelfContradictionShape": "self-contradiction", "kgsh:AttributionConflictShape": "attribution conflict"}


def _normalised(text: str) -> str:
    block = text[text.index("# same-figure:begin"):text.index("# same-figure:end")]
    return "\n".join(line.strip() for line in block.splitlines())


@pytest.mark.parametrize("where", [pytest.param(shapes_path(), id="shapes"),
                                   pytest.param(queries_dir() / "disagreements.rq", id="disagreements-query")])
def test_the_definition_is_written_once_and_copied_word_for_word(where):
    text = where.read_text(encoding="utf-8")
    copies = text.count("# same-figure:begin")
    assert copies >= 1
    for start in [m.start() for m in re.finditer("# same-figure:begin", text)]:
        assert _normalised(text[start:]) == _normalised(FRAGMENT)


def test_oxigraph_matches_the_pairs_on_all_four_keys_at_once():
    """The ?b side of the block reaches Oxigraph's fast path as a subquery, which it joins by hashing period,
    place, measure and unit together (queries/README.md); looked up by the period alone, the pairs cost the
    square of the claims per period (a 10 M corpus did not finish)."""
    from rdflib import Graph

    from kg.model.namespaces import shorten
    from kg.validation.sparql_constraints import constraints

    texts = {shorten(c.shape): c.query for c in constraints(Graph().parse(shapes_path()))}
    for shape in SHAPES:
        pairs = texts[shape][texts[shape].index("?a kg:period"):]
        assert pairs.index("{ SELECT * WHERE { # kg:subquery") < pairs.index("?b kg:period ?period"), shape


@pytest.fixture(scope="module")
def store():
    store = FactStore.in_memory()
    report = store.load(FILES)
    assert report.conforms, report.validation.to_text()
    return store


def _query_pairs(store) -> set[tuple[str, str, str]]:
    pairs = set()
    for row in run_query("disagreements", store=store).rows:
        a, b = str(row["claim_a"]), str(row["claim_b"])
        pairs.add((row["difference"], *sorted((a, b))))
    return pairs


def _shape_pairs(report) -> set[tuple[str, str, str]]:
    pairs = set()
    for problem in report.problems:
        if problem.shape in SHAPES:
            other = re.search(r"https://w3id\.org/conflict-kg/id/claim/[\w/-]+", problem.message).group(0)
            focus = "https://w3id.org/conflict-kg/id/claim/" + problem.focus
            pairs.add((SHAPES[problem.shape], *sorted((focus, other))))
    return pairs


def test_the_query_and_the_shapes_find_the_same_differences_of_the_same_kinds(store):
    found = _query_pairs(store)
    assert _shape_pairs(validate(FILES)) == found
    claim = "https://w3id.org/conflict-kg/id/claim/"
    assert found == {
        ("relay variation", claim + "fictional-courier-2024/attacks-2024-h1", claim + "fictional-gazette-2024/attacks-2024-h1"),
        ("attribution conflict", claim + "fictional-gazette-2024/missions-2024-h1",
         claim + "fictional-tribune-2024/missions-2024-h1"),
    }


def test_kg_add_finds_the_same_differences_as_a_full_validation(store):
    """Each outlet added last to a store holding the others: kg add's verdict on its claims is the full one's."""
    full = _shape_pairs(validate(FILES))
    for outlet in ("courier", "gazette", "tribune"):
        path = MULTI / f"fictional-{outlet}-2024.ttl"
        partial = FactStore.in_memory()
        partial.load([f for f in FILES if f != path])
        added = _shape_pairs(check_files(partial, [path]).validation)
        assert added == {pair for pair in full if f"fictional-{outlet}-2024/" in pair[1] + pair[2]
                         and any(f"fictional-{outlet}-2024/" in c for c in pair[1:])}, outlet


def test_no_false_self_contradiction_and_intervals_decide(store):
    """"Nearly 200", "higher" (a lower bound) and 212 are consistent; 215 against 212 from one claimant through two
    outlets is a relay variation; only different claimants with ranges apart make a value conflict."""
    kinds = {kind for kind, _, _ in _query_pairs(store)}
    assert "self-contradiction" not in kinds and "value conflict" not in kinds
    conflict = FactStore.in_memory()
    conflict.load([*default_load_paths(), FIXTURES / "conflicting-source.ttl"])
    (row,) = run_query("disagreements", store=conflict).rows
    assert row["difference"] == "value conflict" and {row["value_a"], row["value_b"]} == {153, 160}


@pytest.mark.parametrize("mine, other, expected", [
    pytest.param("over 10,000", "12000", "consistent", id="lower-bound-vs-inside"),
    pytest.param("over 10,000", "9000", "value conflict", id="lower-bound-vs-below"),
    pytest.param("nearly 200", "196", "consistent", id="approximate-within-ten-percent"),
    pytest.param("nearly 200", "150", "value conflict", id="approximate-far-off"),
])
def test_intervals_decide_disagreement(tmp_path, mine, other, expected):
    """Two monitors (fictional) on the same figure, one as a phrase with its interval, one exact."""
    template = (FIXTURES / "conflicting-source.ttl").read_text(encoding="utf-8")
    value = {"over 10,000": ("10000", "qualifier:lower-bound", "kg:lowerBound 10000 ;"),
             "nearly 200": ("200", "qualifier:approximate", "kg:upperBound 200 ;")}[mine]
    first = template.replace("kg:value 160 ;", f"kg:value {value[0]} ; {value[2]}").replace(
        'kg:valuePhrase "160"', f'kg:valuePhrase "{mine}"').replace("qualifier:exact", value[1])
    second = template.replace("kg:value 160 ;", f"kg:value {other} ;").replace('kg:valuePhrase "160"',
                                                                               f'kg:valuePhrase "{other}"')
    second = second.replace("fixture-conflicting-monitor", "fixture-second-monitor").replace(
        "example-conflict-monitor", "example-second-monitor")
    (tmp_path / "first.ttl").write_text(first, encoding="utf-8")
    (tmp_path / "second.ttl").write_text(second, encoding="utf-8")
    store = FactStore.in_memory()
    store.load([*default_load_paths(), tmp_path / "first.ttl", tmp_path / "second.ttl"])
    rows = [r for r in run_query("disagreements", store=store).rows
            if "second-monitor" in str(r["claim_a"]) + str(r["claim_b"]) and "conflicting-monitor" in str(r["claim_a"]) + str(r["claim_b"])]
    assert [r["difference"] for r in rows] == ([] if expected == "consistent" else [expected])
