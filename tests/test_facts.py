"""The facts: quotes match the source text at their offsets, every number in the text is
encoded or excluded, the source's record matches its text, and files are canonical. (That a
source file validates on its own with the plain pyshacl command is run from the README, in
tests/test_readme_script.py.)"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from rdflib import BNode, Graph, URIRef

from kg.authoring.quotes import anchors
from kg.model.namespaces import KG, OA, TIME, claim_namespace

from conftest import FIRST_SOURCE_FACTS, FIRST_SOURCE_ID, REFERENCE_FACTS

SOURCE = URIRef(f"https://w3id.org/conflict-kg/id/source/{FIRST_SOURCE_ID}")
#: Numbers written as words that the text uses; each occurrence must be quoted or excluded too.
NUMBER_WORDS = r"one-third|two dozen|hundreds|double|half"


def test_every_quote_is_verbatim_at_its_offsets(facts_graph, source_text):
    found = anchors(facts_graph)
    assert len(found) == 42 and sum(a.excluded for a in found) == 2
    for a in found:
        assert source_text[a.start:a.end] == a.exact, f"{a.owner}: quote not at {a.start}-{a.end}"
        assert source_text[:a.start].endswith(a.prefix), f"{a.owner}: prefix does not precede the quote"
        assert source_text[a.end:].startswith(a.suffix), f"{a.owner}: suffix does not follow the quote"


def test_source_record_matches_its_text(facts_graph, source_text):
    assert str(facts_graph.value(SOURCE, KG.sha256)) == hashlib.sha256(source_text.encode("utf-8")).hexdigest()
    assert facts_graph.value(SOURCE, KG.characterCount).toPython() == len(source_text) == 4882


def test_every_number_in_the_text_is_encoded_or_excluded(facts_graph, source_text):
    spans = [(a.start, a.end) for a in anchors(facts_graph)]
    numbers = list(re.finditer(rf"\d[\d,.]*\d|\d|{NUMBER_WORDS}", source_text))
    assert len(numbers) > 35
    uncovered = [
        (m.group(), m.start())
        for m in numbers
        if not any(s <= m.start() and m.end() <= e for s, e in spans)
    ]
    assert uncovered == []


def test_the_copyright_disclaimer_is_excluded_with_a_reason(facts_graph, source_text):
    reasons = {}
    for passage in facts_graph.objects(SOURCE, KG.excludes):
        exact = next(facts_graph.objects(passage, OA.hasSelector / OA.exact))
        reasons[str(exact)[:11]] = str(facts_graph.value(passage, KG.exclusionReason))
    assert "disclaimer" in reasons["Disclaimer:"].lower()
    assert source_text.rstrip().endswith("Thank you.")


@pytest.mark.parametrize("path", [FIRST_SOURCE_FACTS, REFERENCE_FACTS], ids=lambda p: p.name)
def test_facts_files_are_in_stable_longturtle_order(path):
    text = path.read_text(encoding="utf-8")
    assert Graph().parse(data=text, format="turtle").serialize(format="longturtle") == text


def test_period_lengths_match_their_dates(reference_graph):
    checked = 0
    for period, days in reference_graph.subject_objects(KG.lengthInDays):
        begin = reference_graph.value(reference_graph.value(period, TIME.hasBeginning), TIME.inXSDDate).toPython()
        end = reference_graph.value(reference_graph.value(period, TIME.hasEnd), TIME.inXSDDate).toPython()
        assert isinstance(begin, date) and (end - begin).days + 1 == days.toPython(), period
        checked += 1
    assert checked >= 5


def test_claims_have_readable_iris_in_their_source_namespace(facts_graph):
    claims = set(facts_graph.subjects(KG.statedIn, SOURCE))
    assert len(claims) == 40
    namespace = str(claim_namespace(FIRST_SOURCE_ID))
    for claim in claims:
        assert isinstance(claim, URIRef) and str(claim).startswith(namespace)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(claim)[len(namespace):]), claim


def test_things_people_link_to_are_never_blank_nodes(facts_graph, reference_graph):
    linked = (KG.claimant, KG.statedIn, KG.measure, KG.period, KG.place, KG.about, KG.aboutEvent, KG.topic)
    for graph in (facts_graph, reference_graph):
        for prop in linked:
            assert not any(isinstance(o, BNode) for o in graph.objects(None, prop)), prop


