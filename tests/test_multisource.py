"""Several outlets, one statement: the model says what real multi-source reporting does.

The fixtures (tests/fixtures/multi, all FICTIONAL) are four outlets relaying one fictional
command's statement the ways real outlets do: dated differently or not at all, credited to
the command or to an unnamed official, "claimed" or "carried out", 212 or 215 or "nearly
200", projections hedged differently, parts stated from either side, a derived share, a
subset, a headline. Each test asserts the exact encoding, read back with SPARQL; each
integrity case breaks one fact and must be caught, with a message naming what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.resources import facts_dir, ontology_path
from kg.stores.oxigraph import FactStore
from kg.validation.validator import validate

from conftest import MULTI, MULTI_FILES, OUTLETS

FILES = [ontology_path(), facts_dir() / "reference.ttl", *MULTI_FILES]
PREFIXES = """
PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
ID = "https://w3id.org/conflict-kg/id/"


@pytest.fixture(scope="module")
def store():
    store = FactStore.in_memory()
    report = store.load(FILES)
    assert report.conforms, report.validation.to_text()
    return store


def rows(store, sparql: str) -> list[tuple]:
    def plain(term):
        if term is None:
            return None
        text = str(term)
        return text[len(ID):] if text.startswith(ID) else term.toPython() if hasattr(term, "toPython") else text

    return sorted((tuple(plain(t) for t in row) for row in store.select(PREFIXES + sparql).rows), key=str)


def test_every_outlet_points_its_claims_at_the_one_shared_communication(store):
    found = rows(store, """
        SELECT ?claim ?issuer ?medium WHERE {
          ?claim kg:fromCommunication <https://w3id.org/conflict-kg/id/communication/fictional-joint-command-statement-2024-h1> .
          <https://w3id.org/conflict-kg/id/communication/fictional-joint-command-statement-2024-h1> kg:issuedBy ?issuer ;
              kg:medium ?medium .
        }""")
    claims = {claim.split("/", 1)[1] for claim, _, _ in found}
    assert {issuer for _, issuer, _ in found} == {"actor/fictional-joint-command"}
    assert {medium for _, _, medium in found} == {"medium/press-statement"}
    assert claims == {
        "fictional-wire-2024/attacks-so-far-2024", "fictional-wire-2024/attacks-2023",
        "fictional-wire-2024/attempting-to-regroup", "fictional-wire-2024/missions-so-far-2024",
        "fictional-wire-2024/killed-so-far-2024", "fictional-wire-2024/senior-leaders-killed-so-far-2024",
        "fictional-courier-2024/attacks-might-double", "fictional-courier-2024/attacks-2024-h1",
        "fictional-courier-2024/attacks-2023", "fictional-courier-2024/attacks-carried-out-2024-h1",
        "fictional-gazette-2024/missions-2024-h1", "fictional-gazette-2024/missions-2024-h1-eastmarch",
        "fictional-gazette-2024/missions-2024-h1-westmarch", "fictional-gazette-2024/attacks-2024-h1",
    }


def test_publication_dates_say_how_they_are_known_and_unknown_stays_unknown(store):
    assert rows(store, """
        SELECT ?source ?issued ?basis WHERE {
          ?source a kg:NewsArticle ; kg:issuedDateBasis ?basis . OPTIONAL { ?source dcterms:issued ?issued }
          FILTER (STRSTARTS(STR(?source), "https://w3id.org/conflict-kg/id/source/fictional-"))
        }""") == [
        ("source/fictional-courier-2024", None, "date-basis/unknown"),
        ("source/fictional-gazette-2024", __import__("datetime").date(2024, 7, 18), "date-basis/publisher-metadata"),
        ("source/fictional-tribune-2024", __import__("datetime").date(2024, 7, 17), "date-basis/publisher-metadata"),
        ("source/fictional-wire-2024", __import__("datetime").date(2024, 7, 17), "date-basis/stated-in-text"),
    ]


def test_relative_dates_are_resolved_against_their_report_with_weekday_and_precision(store):
    from datetime import date

    assert rows(store, """
        SELECT ?claim ?phrase ?weekday ?precision ?date ?against WHERE {
          ?claim kg:statedDuring ?period . ?period kg:datePhrase ?phrase ; kg:datePrecision ?precision .
          OPTIONAL { ?period kg:weekday ?weekday }
          OPTIONAL { ?period time:hasBeginning/time:inXSDDate ?date }
          OPTIONAL { ?period kg:resolvedAgainst ?against }
          FILTER (STRSTARTS(STR(?claim), "https://w3id.org/conflict-kg/id/claim/fictional-"))
        }""") == [
        ("claim/fictional-courier-2024/attacks-might-double", "July 16", None, "date-precision/day", None, None),
        ("claim/fictional-gazette-2024/missions-2024-h1", "on Wednesday", "Wednesday", "date-precision/day",
         date(2024, 7, 17), "source/fictional-gazette-2024"),
        ("claim/fictional-tribune-2024/attacks-more-than-doubled", "on Tuesday", "Tuesday", "date-precision/day",
         date(2024, 7, 16), "source/fictional-tribune-2024"),
        ("claim/fictional-wire-2024/attacks-so-far-2024", "on Monday", "Monday", "date-precision/day",
         date(2024, 7, 15), "source/fictional-wire-2024"),
    ]


def test_an_unnamed_claimant_keeps_affiliation_and_reason_and_attribution_basis_is_recorded(store):
    assert rows(store, """
        SELECT ?claimant ?kind ?affiliation ?reason WHERE {
          ?claim kg:claimant ?claimant . ?claimant a ?kind .
          FILTER (?kind IN (kg:UnnamedPerson, kg:UnnamedGroup))
          OPTIONAL { ?claimant kg:affiliation ?affiliation } OPTIONAL { ?claimant kg:anonymityReason ?reason }
        } GROUP BY ?claimant ?kind ?affiliation ?reason""") == [
        ("actor/fictional-courier-2024-nonmilitary-experts", "https://w3id.org/conflict-kg/ontology#UnnamedGroup",
         None, None),
        ("actor/fictional-tribune-2024-defense-official", "https://w3id.org/conflict-kg/ontology#UnnamedPerson",
         "actor/fictional-joint-command", "he was not authorized to discuss the figures"),
    ]
    by_basis = dict(rows(store, """
        SELECT ?basis (COUNT(?claim) AS ?n) WHERE { ?claim kg:attributionBasis ?basis ;
          kg:statedIn ?source FILTER (STRSTARTS(STR(?source), "https://w3id.org/conflict-kg/id/source/fictional-")) }
        GROUP BY ?basis"""))
    assert by_basis == {"attribution-basis/stated-in-sentence": 14, "attribution-basis/carried-from-previous-sentence": 4,
                        "attribution-basis/unattributed": 5}


def test_figures_are_intervals_that_keep_their_phrase(store):
    assert rows(store, """
        SELECT ?claim ?value ?low ?high ?qualifier ?phrase WHERE {
          ?claim kg:value ?value ; kg:valueQualifier ?qualifier ; kg:valuePhrase ?phrase .
          OPTIONAL { ?claim kg:lowerBound ?low } OPTIONAL { ?claim kg:upperBound ?high }
          FILTER (BOUND(?low) || BOUND(?high))
        }""") == [
        ("claim/fictional-courier-2024/real-number-higher", 212, 212, None, "qualifier/lower-bound", "higher"),
        ("claim/fictional-tribune-2024/attacks-carried-out-so-far-2024", 200, None, 200, "qualifier/approximate",
         "nearly 200"),
    ]


def test_an_open_ended_period_ends_with_the_communication(store):
    from datetime import date

    assert rows(store, """
        SELECT ?period ?begin ?communication WHERE {
          ?period a kg:OpenEndedPeriod ; time:hasBeginning/time:inXSDDate ?begin ; kg:endsWithCommunication ?communication }""") == [
        ("period/fictional-tribune-2024-so-far-this-year", date(2024, 1, 1),
         "communication/fictional-tribune-2024-official-interview"),
        ("period/fictional-wire-2024-so-far-this-year", date(2024, 1, 1),
         "communication/fictional-joint-command-statement-2024-h1"),
    ]


def test_projections_and_comparisons_keep_ratio_hedge_and_bounds(store):
    from decimal import Decimal

    found = rows(store, """
        SELECT ?claim ?ratio ?low ?hedge ?projection ?phrase WHERE {
          ?claim a kg:ComparisonClaim ; kg:ratio ?ratio ; kg:comparedPeriod ?compared ; kg:valuePhrase ?phrase .
          OPTIONAL { ?claim kg:lowerBound ?low } OPTIONAL { ?claim kg:hedge ?hedge } OPTIONAL { ?claim kg:isProjection ?projection }
        }""")
    assert found == [
        ("claim/fictional-courier-2024/attacks-might-double", 2, None, "might", True, "double"),
        ("claim/fictional-tribune-2024/attacks-more-than-doubled", 2, 2, None, False, "more than doubled"),
        ("claim/fictional-wire-2024/attacks-on-track-to-double", 2, None, "on track to", True, "double"),
    ]
    assert not [r for r in found if isinstance(r[1], Decimal) and r[1] != 2]


def test_derived_figures_subsets_relative_quantities_partial_quotes_and_headlines(store):
    assert rows(store, "SELECT ?share ?from WHERE { ?share kg:derivedFrom ?from }") == [
        ("claim/fictional-gazette-2024/missions-share-eastmarch", "claim/fictional-gazette-2024/missions-2024-h1"),
        ("claim/fictional-gazette-2024/missions-share-eastmarch", "claim/fictional-gazette-2024/missions-2024-h1-eastmarch"),
    ]
    assert rows(store, "SELECT ?part ?whole WHERE { ?part kg:subsetOf ?whole }") == [
        ("claim/fictional-wire-2024/senior-leaders-killed-so-far-2024", "claim/fictional-wire-2024/killed-so-far-2024")]
    assert rows(store, "SELECT ?claim ?value ?reference WHERE { ?claim kg:relativeTo ?reference ; kg:value ?value }") == [
        ("claim/fictional-tribune-2024/area-held", __import__("decimal").Decimal("0.5"), "the size of Westmarch")]
    assert rows(store, "SELECT ?claim ?words WHERE { ?claim kg:quotedWords ?words FILTER (CONTAINS(STR(?claim), 'fictional')) }") == [
        ("claim/fictional-wire-2024/attempting-to-regroup", "regroup")]
    assert rows(store, "SELECT ?claim WHERE { ?claim kg:claimKind <https://w3id.org/conflict-kg/id/kind/headline> }") == [
        ("claim/fictional-gazette-2024/headline",)]


def test_parts_stated_with_the_inverse_property_are_summed(store):
    """The Gazette states its parts from the parts' side (kg:partFigureOf): 67 + 29 = 96, consistent."""
    result = CliRunner().invoke(main, ["validate", *map(str, FILES), "--format", "json"])
    assert result.exit_code == 0, result.output


def _variant(tmp_path: Path, outlet: str, old: str, new: str) -> list[Path]:
    text = (MULTI / f"{outlet}.ttl").read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    changed = tmp_path / f"{outlet}.ttl"
    changed.write_text(text.replace(old, new, 1), encoding="utf-8")
    return [changed if path.name == changed.name else path for path in FILES]


INTEGRITY = [
    pytest.param("fictional-gazette-2024", "kg:value 29 ;", "kg:value 30 ;", "kgsh:TotalEqualsSumOfPartsShape",
                 "does not equal the sum of its 2 reported parts (30 + 67 = 97)", id="parts-stated-with-partFigureOf-do-not-sum"),
    pytest.param("fictional-wire-2024", "kg:lengthInDays 1 ;", "kg:lengthInDays 2 ;", "kgsh:LengthInDaysShape",
                 "kg:lengthInDays says 2, but the period from 2024-07-15 to 2024-07-15 (both included) is 1 days long",
                 id="length-in-days-off"),
    pytest.param("fictional-wire-2024", 'kg:weekday "Monday" ;', 'kg:weekday "Tuesday" ;', "kgsh:WeekdayMatchesDateShape",
                 "The source says Tuesday, but the date resolved for it, 2024-07-15, is a Monday", id="weekday-does-not-fit"),
    pytest.param("fictional-courier-2024", 'kg:datePhrase "July 16" ;',
                 'kg:datePhrase "July 16" ; kg:resolvedAgainst source:fictional-courier-2024 ;', "kgsh:ResolvedDateShape",
                 "source/fictional-courier-2024, which has no publication date", id="resolved-against-an-undated-report"),
    pytest.param("fictional-courier-2024", "kg:issuedDateBasis date-basis:unknown ;",
                 'kg:issuedDateBasis date-basis:unknown ; dcterms:issued "2024-07-16"^^xsd:date ;', "kgsh:IssuedDateBasisShape",
                 "gives a publication date (2024-07-16) but says it is unknown", id="a-date-said-to-be-unknown"),
    pytest.param("fictional-tribune-2024", "kg:upperBound 200 ;", "kg:upperBound 150 ;", "kgsh:BoundsShape",
                 "lower bound , value 200, upper bound 150", id="bounds-do-not-enclose-the-value"),
    pytest.param("fictional-wire-2024", "kg:value 8 ;\n    kg:valuePhrase \"eight\" ;", "kg:value 80 ;\n    kg:valuePhrase \"eight\" ;",
                 "kgsh:SubsetShape", "This figure (80) is a subset of", id="subset-larger-than-its-whole"),
    pytest.param("fictional-wire-2024", 'kg:quotedWords "regroup" ;', 'kg:quotedWords "rebuild" ;', "kgsh:QuotedWordsShape",
                 'The words "rebuild" are marked as quoted', id="quoted-words-not-in-the-quote"),
    pytest.param("fictional-gazette-2024", "claim:headline\n    a kg:StatementClaim ;", "claim:headline\n    a kg:Claim ;",
                 "kgsh:ClaimSubclassShape", "typed kg:Claim only", id="claim-typed-only-kg-claim"),
    pytest.param("fictional-wire-2024", "kg:statedDuring period:fictional-wire-2024-monday ;",
                 "kg:statedDuring period:fictional-wire-2024-sunday ;", "kgsh:DanglingLinkShape",
                 "period/fictional-wire-2024-sunday, which is not described anywhere", id="stated-during-a-period-described-nowhere"),
    pytest.param("fictional-courier-2024", "kg:relayedFrom actor:fictional-joint-command ;",
                 "kg:relayedFrom actor:fictional-joint-comand ;", "kgsh:DanglingLinkShape",
                 "actor/fictional-joint-comand, which is not described anywhere", id="relayed-from-an-actor-described-nowhere"),
    pytest.param("fictional-gazette-2024", "kg:partFigureOf claim:missions-2024-h1 ;",
                 "kg:partFigureOf claim:missions-2024-h2 ;", "kgsh:DanglingLinkShape",
                 "missions-2024-h2, which is not described anywhere", id="part-of-a-claim-described-nowhere"),
]


@pytest.mark.parametrize("outlet, old, new, shape, message", INTEGRITY)
def test_each_integrity_error_is_a_violation_naming_what_is_wrong(tmp_path, outlet, old, new, shape, message):
    report = validate(_variant(tmp_path, outlet, old, new))
    assert not report.conforms
    violations = [p for p in report.problems if p.severity == "Violation"]
    assert any(p.shape == shape and message in p.message for p in violations), report.to_text()


def test_a_relaying_phrase_that_is_not_in_the_text_is_caught(tmp_path):
    [changed] = [p for p in _variant(tmp_path, "fictional-wire-2024", 'kg:relayPhrase "The command said"',
                                     'kg:relayPhrase "The command announced"') if p.parent == tmp_path]
    result = CliRunner().invoke(main, ["verify-quotes", "--source-text", str(MULTI / "fictional-wire-2024.txt"), str(changed)])
    assert result.exit_code == 1
    assert "the relaying phrase 'The command announced' does not occur in the text" in result.output


@pytest.mark.parametrize("outlet", OUTLETS)
def test_every_fictional_outlet_quotes_its_text_exactly_and_covers_it(outlet):
    text = MULTI / f"{outlet}.txt"
    assert text.read_text(encoding="utf-8").startswith("FICTIONAL TEXT")
    runner = CliRunner()
    quotes = runner.invoke(main, ["verify-quotes", "--source-text", str(text), str(MULTI / f"{outlet}.ttl")])
    assert quotes.exit_code == 0, quotes.output
    coverage = runner.invoke(main, ["coverage", "--source-text", str(text), str(MULTI / f"{outlet}.ttl")])
    assert coverage.exit_code == 0, coverage.output


def test_claims_are_shown_and_accepted_as_source_id_slash_slug(store, tmp_path):
    """Two outlets have an attacks-2024-h1: tables say whose, and the same name is accepted back."""
    from kg.queries.catalogue import run_query

    result = run_query("evidence", store=store, params={"claim": "fictional-gazette-2024/attacks-2024-h1"})
    assert [str(row["claim"]) for row in result.rows] == [
        "https://w3id.org/conflict-kg/id/claim/fictional-gazette-2024/attacks-2024-h1"]
    from kg.queries.formats import display

    assert display(result.terms[0][0]) == "fictional-gazette-2024/attacks-2024-h1"
    store_path = tmp_path / "s"
    assert CliRunner().invoke(main, ["load", *map(str, FILES), "--store", str(store_path)]).exit_code == 0
    table = CliRunner().invoke(main, ["query", "evidence", "-p", "claim=fictional-courier-2024/attacks-2024-h1",
                                      "--store", str(store_path)])
    assert table.exit_code == 0 and "fictional-courier-2024/attacks-2024-h1" in table.output
    assert "fictional-gazette-2024/attacks-2024-h1" not in table.output


def test_kg_graph_accepts_a_claim_as_source_id_slash_slug(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed (.ci/run installs it: apt-get install graphviz)")
    store_path = tmp_path / "s"
    assert CliRunner().invoke(main, ["load", *map(str, FILES), "--store", str(store_path)]).exit_code == 0
    result = CliRunner().invoke(main, ["graph", "--claim", "fictional-wire-2024/attacks-so-far-2024", "--out",
                                       str(tmp_path / "claim.svg"), "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    assert "212" in (tmp_path / "claim.svg").read_text()


def test_a_thing_first_described_by_one_source_is_promoted_to_the_reference_data_in_one_load(tmp_path):
    """The communication starts in the first outlet's file (the only one relaying it); when a second outlet
    relays it too, it moves to the reference data: one `kg load` of the two changed files replaces both graphs
    in one validated transaction, and the next outlet is added as usual."""
    reference = (MULTI / "fictional-reference.ttl").read_text(encoding="utf-8")
    start = reference.index("communication:fictional-joint-command-statement-2024-h1\n    a kg:Communication")
    shared, without = reference[start:], reference[:start]
    wire = (MULTI / "fictional-wire-2024.ttl").read_text(encoding="utf-8")
    before = tmp_path / "before"
    before.mkdir()
    (before / "fictional-reference.ttl").write_text(without, encoding="utf-8")
    (before / "fictional-wire-2024.ttl").write_text(
        wire + "\nPREFIX date-precision: <https://w3id.org/conflict-kg/id/date-precision/>\n"
        "PREFIX medium: <https://w3id.org/conflict-kg/id/medium/>\n" + shared, encoding="utf-8")
    store_path = tmp_path / "store"
    runner = CliRunner()
    first = runner.invoke(main, ["load", str(ontology_path()), str(facts_dir() / "reference.ttl"),
                                 *map(str, before.iterdir()), "--store", str(store_path)])
    assert first.exit_code == 0, first.output
    assert runner.invoke(main, ["add", str(MULTI / "fictional-courier-2024.ttl"), "--store", str(store_path)]).exit_code == 0
    promoted = runner.invoke(main, ["load", str(MULTI / "fictional-reference.ttl"), str(MULTI / "fictional-wire-2024.ttl"),
                                    "--store", str(store_path)])
    assert promoted.exit_code == 0, promoted.output
    added = runner.invoke(main, ["add", str(MULTI / "fictional-gazette-2024.ttl"), "--store", str(store_path)])
    assert added.exit_code == 0, added.output
    with FactStore(store_path) as opened:
        where = opened.select(
            "SELECT ?g WHERE { GRAPH ?g { <https://w3id.org/conflict-kg/id/communication/fictional-joint-command-"
            "statement-2024-h1> a <https://w3id.org/conflict-kg/ontology#Communication> } }").rows
    assert [str(g) for (g,) in where] == ["https://w3id.org/conflict-kg/id/fictional-reference"]


def test_what_an_outlet_says_about_the_communication_itself_is_a_claim(store):
    """"The statement gave no figure for…": a claim about the communication, gathered with the claims from it."""
    assert rows(store, """
        SELECT ?claim ?claimant WHERE {
          ?claim kg:aboutEvent <https://w3id.org/conflict-kg/id/communication/fictional-joint-command-statement-2024-h1> ;
                 kg:claimant ?claimant }""") == [
        ("claim/fictional-gazette-2024/statement-gave-no-carried-out-figure", "actor/fictional-gazette")]
