"""Each shape, broken on purpose: a copy of the real facts with one small change makes
exactly that shape fail, with its message."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg.validation.validator import validate

PREFIXES = """
PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX claim: <https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/>
PREFIX source: <https://w3id.org/conflict-kg/id/source/>
PREFIX actor: <https://w3id.org/conflict-kg/id/actor/>
PREFIX period: <https://w3id.org/conflict-kg/id/period/>
PREFIX measure: <https://w3id.org/conflict-kg/id/measure/>
PREFIX qualifier: <https://w3id.org/conflict-kg/id/qualifier/>
"""


def _delete(subject: str, prop: str) -> str:
    return f"DELETE WHERE {{ {subject} {prop} ?o }}"


def _set(subject: str, prop: str, value: str) -> str:
    return f"DELETE {{ {subject} {prop} ?o }} INSERT {{ {subject} {prop} {value} }} WHERE {{ {subject} {prop} ?o }}"


THIRD_STEP = ("INSERT { claim:attacks-2024-h1 kg:reportedVia [ a kg:RelayStep ; prov:agent actor:aanes ; "
              "prov:hadRole <https://w3id.org/conflict-kg/id/role/relayer> ; kg:relayedFrom {FROM} ; kg:stepOrder 3 ] } "
              "WHERE {}")

CASES = [
    pytest.param(_delete("claim:attacks-2024-h1", "kg:claimant"), "ClaimClaimantShape", "who made it", id="no-claimant"),
    pytest.param("INSERT DATA { claim:us-designation kg:claimant actor:centcom }", "ClaimClaimantShape",
                 "exactly one original claimant", id="two-claimants"),
    pytest.param(_set("claim:us-designation", "kg:claimant", "actor:nobody"), "DanglingLinkShape",
                 "actor/nobody, which is not described anywhere", id="unknown-claimant"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:claimantStanding"), "ClaimStandingShape", "stands to", id="no-standing"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:statedIn"), "ClaimSourceShape", "source document", id="no-source"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:claimKind"), "ClaimKindShape", "kind of speech act", id="no-kind"),
    pytest.param("DELETE WHERE { claim:attacks-2024-h1 kg:evidence ?e }",
                 "ClaimEvidenceShape", "exactly one kg:evidence", id="no-evidence"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:isDirectQuotation"), "ClaimDirectQuotationShape",
                 "direct quotation", id="no-direct-quotation-flag"),
    pytest.param(_delete("claim:attacks-2024-h1", "rdfs:label"), "ClaimLabelShape", "one-line summary", id="no-claim-label"),
    pytest.param("DELETE { ?p oa:end ?end } INSERT { ?p oa:end ?wrong } WHERE { claim:attacks-2024-h1 kg:evidence/oa:hasSelector ?p . "
                 "?p oa:end ?end BIND (?end + 3 AS ?wrong) }", "OffsetsMatchQuoteShape", "end - start must equal", id="offsets-off-by-three"),
    pytest.param("DELETE { ?p oa:end ?end } INSERT { ?p oa:end ?wrong } WHERE { claim:attacks-2024-h1 kg:evidence/oa:hasSelector ?p . "
                 "?p oa:end ?end BIND (?end - 2 AS ?wrong) }", "OffsetsMatchQuoteShape", "end - start must equal",
                 id="offsets-two-short"),
    pytest.param("DELETE { ?p oa:start ?s ; oa:end ?e } INSERT { ?p oa:start -5 ; oa:end ?shifted } WHERE { "
                 "claim:attacks-2024-h1 kg:evidence/oa:hasSelector ?p . ?p oa:start ?s ; oa:end ?e BIND (?e - ?s - 5 AS ?shifted) }",
                 "TextPositionSelectorStartShape", "non-negative xsd:integer", id="negative-start"),
    pytest.param("DELETE { ?q oa:exact ?x } INSERT { ?q oa:exact ?tagged } WHERE { claim:us-designation kg:evidence/oa:hasSelector ?q . "
                 "?q oa:exact ?x BIND (STRLANG(?x, \"en\") AS ?tagged) }", "TextQuoteSelectorExactShape", "non-empty oa:exact string",
                 id="quote-not-a-plain-string"),
    pytest.param("DELETE { ?e oa:hasSelector ?q . ?q ?p ?o } WHERE { claim:attacks-2024-h1 kg:evidence ?e . ?e oa:hasSelector ?q . "
                 "?q a oa:TextQuoteSelector ; ?p ?o }",
                 "EvidenceQuoteSelectorShape", "TextQuoteSelector", id="no-quote-selector"),
    pytest.param("DELETE { ?e oa:hasSource ?s } WHERE { claim:attacks-2024-h1 kg:evidence ?e . ?e oa:hasSource ?s }",
                 "EvidenceSourceShape",
                 "name the source document", id="evidence-without-source"),
    # source:other gets something stated in it, so that only the evidence rule is broken (not "a source states something").
    pytest.param("DELETE { ?e oa:hasSource ?s } INSERT { ?e oa:hasSource source:other . source:other ?p ?o . "
                 "[] kg:statedIn source:other } WHERE { "
                 "claim:attacks-2024-h1 kg:evidence ?e . ?e oa:hasSource ?s . ?s ?p ?o FILTER (?p != kg:excludes) }",
                 "EvidenceMatchesSourceShape", "not the source document it is stated in", id="evidence-from-another-source"),
    pytest.param(_set("claim:attacks-2024-h1", "kg:value", "-153"), "QuantityValueShape", "non-negative", id="negative-value"),
    pytest.param(_set("claim:attacks-2024-h1", "kg:value", '"153"'), "QuantityValueShape", "xsd:integer or xsd:decimal",
                 id="value-as-string"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:measure"), "QuantityMeasureShape", "what it measures", id="no-measure"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:period"), "QuantityPeriodShape", "which period", id="no-period"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:place"), "QuantityPlaceShape", "which one place", id="no-place"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:unit"), "QuantityUnitShape", "unit", id="no-unit"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:valueQualifier"), "QuantityQualifierShape", "exact, a lower bound",
                 id="no-qualifier"),
    pytest.param(_delete("claim:attacks-2024-h1", "kg:valuePhrase"), "QuantityPhraseShape", "own words", id="no-phrase"),
    pytest.param(_set("claim:territory-iraq-peak", "kg:value", "140"), "PercentageRangeShape", "this figure is 140 percent",
                 id="percentage-above-100"),
    pytest.param(_set("claim:isis-fighters-detained-by-sdf", "kg:valueQualifier", "qualifier:exact"), "QualifierMatchesPhraseShape",
                 'The phrase "over 10,000" makes this figure', id="over-marked-exact"),
    pytest.param(_set("claim:operations-iraq-2024-h1", "kg:value", "130"), "TotalEqualsSumOfPartsShape",
                 "Reported total 196 does not equal the sum of its 2 reported parts", id="total-not-sum-of-parts"),
    pytest.param(_set("claim:killed-iraq-2024-h1", "kg:measure", "measure:operatives-detained"), "PartFigureConsistentShape",
                 "another measure or unit", id="part-of-another-measure"),
    pytest.param(_delete("claim:centcom-keep-coalition-presence", "kg:stance"), "StanceClaimStanceShape", "exactly one position",
                 id="stance-without-position"),
    pytest.param(_delete("claim:amnesty-terms", "kg:aboutEvent"), "EventClaimAboutEventShape", "name the event",
                 id="event-claim-without-event"),
    pytest.param("DELETE { ?s prov:agent ?a } WHERE { claim:attacks-2024-h1 kg:reportedVia ?s . ?s kg:stepOrder 2 ; prov:agent ?a }",
                 "RelayStepAgentShape", "who relayed", id="relay-step-without-relayer"),
    pytest.param("DELETE { ?s kg:relayedFrom ?f } INSERT { ?s kg:relayedFrom actor:centcom } WHERE { claim:attacks-2024-h1 "
                 "kg:reportedVia ?s . ?s kg:stepOrder 2 ; kg:relayedFrom ?f }", "ReportingChainShape",
                 "chain must be connected", id="broken-chain"),
    pytest.param(THIRD_STEP.replace("{FROM}", "actor:associated-press"), "ReportingChainShape", "chain must be connected",
                 id="third-step-relaying-from-the-first"),
    pytest.param(_delete("source:newsweek-isis-attacks-2024", "kg:sha256"), "SourceDocumentSha256Shape", "SHA-256",
                 id="source-without-sha256"),
    pytest.param(_set("source:newsweek-isis-attacks-2024", "kg:sha256", '"not-a-digest"'), "SourceDocumentSha256Shape",
                 "64 lower-case hex digits", id="malformed-sha256"),
    pytest.param(_delete("source:newsweek-isis-attacks-2024", "dcterms:publisher"), "SourceDocumentPublisherShape", "publisher",
                 id="source-without-publisher"),
    pytest.param("DELETE { ?e kg:exclusionReason ?r } WHERE { source:newsweek-isis-attacks-2024 kg:excludes ?e . ?e kg:exclusionReason ?r }",
                 "ExcludedPassageExclusionReasonShape", "why it is left out", id="exclusion-without-reason"),
    pytest.param("DELETE { period:2023 time:hasEnd ?e . ?e ?p ?o } WHERE { period:2023 time:hasEnd ?e . ?e ?p ?o }", "PeriodShape", "explicit beginning and end",
                 id="period-without-end"),
    pytest.param("DELETE { ?b time:inXSDDate ?d } INSERT { ?b time:inXSDDate \"2024-01-01\"^^xsd:date } "
                 "WHERE { period:2023 time:hasBeginning ?b . ?b time:inXSDDate ?d }", "PeriodOrderShape",
                 "after it ends", id="period-begins-after-it-ends"),
    pytest.param(_delete("period:isis-territorial-peak", "kg:periodDescription"), "UndatedPeriodPeriodDescriptionShape",
                 "in words", id="undated-period-without-description"),
    pytest.param(_delete("actor:sdf", "rdfs:label"), "ActorLabelShape", "name people can read", id="actor-without-label"),
    pytest.param("DELETE { actor:wilson-center a ?k } INSERT { actor:wilson-center a kg:Actor } WHERE { actor:wilson-center a ?k }",
                 "ActorShape", "Actor has no kind", id="actor-without-kind"),
    pytest.param(_delete("measure:attacks-claimed", "rdfs:label"), "VocabularyTermLabelShape", "no rdfs:label",
                 id="measure-without-label"),
]

WARNING_CASES = [
    pytest.param(_delete("actor:tom-wilson", "kg:affiliation"), "PersonAffiliationShape", "no affiliation",
                 id="person-without-affiliation"),
    pytest.param("DELETE WHERE { claim:sleeper-cells-remain kg:about ?a }", "ClaimAboutShape", "neither which actor",
                 id="claim-about-nothing"),
    pytest.param(_delete("measure:detention-facilities", "skos:definition"), "VocabularyTermDefinitionShape", "no skos:definition",
                 id="measure-without-definition"),
]


def _broken(facts_graph: Graph, reference_graph: Graph, update: str) -> Graph:
    graph = Graph()
    graph += facts_graph
    graph += reference_graph
    before = len(graph)
    graph.update(PREFIXES + update)
    assert len(graph) != before or "INSERT" in update, "the change must change something"
    return graph


VALID_CHANGES = [
    pytest.param(THIRD_STEP.replace("{FROM}", "actor:newsweek"), id="a-third-relay-step-relaying-from-the-second"),
]


@pytest.mark.parametrize("update", VALID_CHANGES)
def test_a_valid_change_conforms(facts_graph, reference_graph, update):
    """Shapes must not fire on what is right: each change here keeps the facts valid."""
    report = validate(_broken(facts_graph, reference_graph, update))
    assert report.conforms, report.to_text()


def test_the_real_facts_conform_with_no_warnings(facts_graph, reference_graph):
    graph = Graph()
    graph += facts_graph
    graph += reference_graph
    report = validate(graph)
    assert report.conforms
    assert report.counts() == {"Violation": 0, "Warning": 0, "Info": 0}


@pytest.mark.parametrize("update, shape, message", CASES)
def test_a_broken_fact_fails_exactly_its_shape(facts_graph, reference_graph, update, shape, message):
    report = validate(_broken(facts_graph, reference_graph, update))
    assert not report.conforms
    violated = {problem.shape for problem in report.problems if problem.severity == "Violation"}
    assert violated == {f"kgsh:{shape}"}
    assert any(message in problem.message for problem in report.problems), [p.message for p in report.problems]


@pytest.mark.parametrize("update, shape, message", WARNING_CASES)
def test_a_missing_recommendation_is_a_warning_only(facts_graph, reference_graph, update, shape, message):
    report = validate(_broken(facts_graph, reference_graph, update))
    assert report.conforms
    assert {problem.shape for problem in report.problems} == {f"kgsh:{shape}"}
    assert {problem.severity for problem in report.problems} == {"Warning"}
    assert any(message in problem.message for problem in report.problems)


def test_total_mismatch_message_names_total_parts_and_difference(facts_graph, reference_graph):
    report = validate(_broken(facts_graph, reference_graph, _set("claim:operations-iraq-2024-h1", "kg:value", "130")))
    (problem,) = [p for p in report.problems if p.shape == "kgsh:TotalEqualsSumOfPartsShape"]
    assert problem.focus == "newsweek-isis-attacks-2024/missions-2024-h1"
    assert "196" in problem.message and "189" in problem.message and "differ by 7" in problem.message
    assert "(59 + 130 = 189)" in problem.message  # parts listed in ascending order, on every engine


def test_report_text_is_for_people(facts_graph, reference_graph):
    report = validate(_broken(facts_graph, reference_graph, _delete("claim:attacks-2024-h1", "kg:claimant")))
    text = report.to_text()
    assert "newsweek-isis-attacks-2024/attacks-2024-h1 (ISIS claimed responsibility for 153 attacks" in text
    assert "rule: kgsh:ClaimClaimantShape" in text
    assert text.endswith("Validation does not conform: 1 violation, 0 warnings, 0 infos")


def test_a_negative_percentage_is_named_as_a_percentage(facts_graph, reference_graph):
    """Two rules fire: values are non-negative, and a percentage lies between 0 and 100."""
    report = validate(_broken(facts_graph, reference_graph, _set("claim:territory-iraq-peak", "kg:value", "-5")))
    assert {p.shape for p in report.problems if p.severity == "Violation"} == {"kgsh:QuantityValueShape",
                                                                               "kgsh:PercentageRangeShape"}
    assert any("this figure is -5 percent" in p.message for p in report.problems)


def test_a_problem_on_a_nested_blank_node_names_its_claim(facts_graph, reference_graph):
    """A quote selector is a blank node two levels below its claim: the problem names the claim and the path."""
    update = "DELETE { ?p oa:end ?end } WHERE { claim:attacks-2024-h1 kg:evidence/oa:hasSelector ?p . ?p oa:end ?end }"
    (problem,) = validate(_broken(facts_graph, reference_graph, update)).problems
    assert problem.focus == "newsweek-isis-attacks-2024/attacks-2024-h1"
    assert problem.focus_label.startswith("kg:evidence/oa:hasSelector of newsweek-isis-attacks-2024/attacks-2024-h1: ")


def test_a_part_of_another_period_or_by_another_claimant_is_not_summed(facts_graph, reference_graph):
    """A total is the sum of the parts its claimant gives for its period: a part of another period, or
    credited to another claimant, does not count (here the sum falls to 59, one part)."""
    for update in (_set("claim:operations-iraq-2024-h1", "kg:period", "period:2023"),
                   _set("claim:operations-iraq-2024-h1", "kg:claimant", "actor:sdf")):
        report = validate(_broken(facts_graph, reference_graph, update))
        totals = [p for p in report.problems if p.shape == "kgsh:TotalEqualsSumOfPartsShape"]
        assert [p.focus for p in totals] == ["newsweek-isis-attacks-2024/missions-2024-h1"], update
        assert "sum of its 1 reported part" in totals[0].message, totals[0].message
