"""Writing a new source: the template, drafts, coverage of the text, quotes against the text, offsets
computed (the README's walkthrough itself runs in tests/test_readme_script.py)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef

from kg.authoring.quotes import coverage, sentences, verify_quotes
from kg.cli.commands import main

from conftest import FIRST_SOURCE_FACTS, FIXTURES, SOURCES


FICTIONAL_TEXT = FIXTURES / "fictional-monitor-2024.txt"
FICTIONAL_FACTS = FIXTURES / "fictional-monitor-2024.ttl"
NEW_SOURCE_ARGS = ["new-source", "--id", "fictional-monitor-2024",
                   "--title", "Fictional Monitor: ISIS attacks in H1 2024 (a fictional example)",
                   "--publisher", "Fictional Monitor", "--source-text", str(FICTIONAL_TEXT)]


def kg(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_the_first_source_is_fully_covered(source_text, facts_graph):
    report = coverage(source_text, facts_graph)
    assert report.complete
    assert report.summary() == ("sentences: 35/35 covered (28 quoted, 7 excluded); "
                                "numbers: 42/42 covered (38 quoted, 4 excluded)")


@pytest.mark.parametrize("text, expected", [
    pytest.param("It was said by the U.S. Central Command on Wednesday. Then more.",
                 ["It was said by the U.S. Central Command on Wednesday.", "Then more."], id="initialism-before-a-name"),
    pytest.param("ISIS is designated a terrorist group by the U.S. According to the Wilson Center, it grew.",
                 ["ISIS is designated a terrorist group by the U.S.", "According to the Wilson Center, it grew."],
                 id="initialism-ending-a-sentence"),
    pytest.param("Gen. Kurilla spoke on Jan. 3. He said 3.5 percent.", ["Gen. Kurilla spoke on Jan. 3.", "He said 3.5 percent."],
                 id="titles-months-decimals"),
    pytest.param('"We continue," he said. "They try." AP\nNext line without a stop\nLast.',
                 ['"We continue," he said.', '"They try."', "AP", "Next line without a stop", "Last."],
                 id="quotes-and-lines"),
    pytest.param("It rose by 5 p.m. on Monday. officials said e.g. this.", ["It rose by 5 p.m. on Monday. officials said e.g. this."],
                 id="lower-case-continues"),
])
def test_sentences_are_split_where_a_reader_splits_them(text, expected):
    assert [text[a:b] for a, b in sentences(text)] == expected


SENTENCE = ("In the first half of 2024, ISIS claimed responsibility for 153 attacks across the two countries, according "
            "to a statement that the command released on Wednesday after months of internal review by its staff.")


def _quoting(text: str, *parts: str) -> Graph:
    turtle = ["@prefix kg: <https://w3id.org/conflict-kg/ontology#> . @prefix oa: <http://www.w3.org/ns/oa#> ."]
    for index, part in enumerate(parts):
        start = text.index(part)
        turtle.append(f"<urn:c{index}> kg:evidence [ oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact {part!r} ] , "
                      f"[ a oa:TextPositionSelector ; oa:start {start} ; oa:end {start + len(part)} ] ] .")
    return Graph().parse(data="\n".join(turtle), format="turtle")


@pytest.mark.parametrize("parts, status", [
    pytest.param(("153 attacks across the",), "partly quoted", id="a-fragment-does-not-cover-a-sentence"),
    pytest.param((SENTENCE[:60], SENTENCE[55:120]), "quoted", id="overlapping-quotes-covering-most"),
    pytest.param((), "not encoded", id="nothing"),
])
def test_a_sentence_is_covered_only_by_quotes_spanning_most_of_it(parts, status):
    report = coverage(SENTENCE, _quoting(SENTENCE, *parts))
    assert [s.status for s in report.sentences] == [status]
    assert report.complete is (status == "quoted")
    if status == "partly quoted":
        assert f"sentence partly encoded at 0-{len(SENTENCE)}: In the first half" in report.to_text()


def test_numbers_written_as_words_count_as_figures():
    text = "Eight fighters, twenty-five civilians and half the town; two dozen were held, one of them a leader."
    found = [n.text for n in coverage(text, Graph()).numbers]
    assert found == ["Eight", "twenty-five", "half", "two", "dozen"]


def test_coverage_cli_lists_what_is_not_encoded(tmp_path, source_text):
    graph = Graph().parse(FIRST_SOURCE_FACTS)
    graph.update("""PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        DELETE { ?c ?p ?o } WHERE { ?c kg:valuePhrase "92" ; ?p ?o }""")
    graph.update("""PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        DELETE { ?c ?p ?o } WHERE { ?c kg:valuePhrase "59" ; ?p ?o }""")
    graph.update("""PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        DELETE { ?c ?p ?o } WHERE { ?c kg:valuePhrase "14" ; ?p ?o }""")
    partial = tmp_path / "partial.ttl"
    graph.serialize(partial, format="longturtle")
    text = SOURCES / "newsweek-isis-attacks-2024.txt"
    result = kg("coverage", "--source-text", text, partial)
    assert result.exit_code == 1
    assert "sentence not encoded at 2229-2391: In Syria, 59 operations" in result.output
    for number, offset in (("59", 2239), ("14", 2333), ("92", 2363)):
        assert f"number not encoded at {offset}: '{number}'" in result.output
    assert "sentences: 34/35 covered" in result.output and "numbers: 39/42 covered" in result.output
    full = kg("coverage", "--source-text", text)
    assert full.exit_code == 0 and "35/35" in full.output


def test_verify_quotes_passes_on_the_real_facts(source_text):
    result = kg("verify-quotes", "--source-text", SOURCES / "newsweek-isis-attacks-2024.txt")
    assert result.exit_code == 0, result.output
    assert "42 quotes and 42 relaying phrases checked: 42 quotes match, 0 problems." in result.output


def test_verify_quotes_reports_a_shifted_quote_with_its_nearest_match(tmp_path, source_text):
    shifted = tmp_path / "shifted.ttl"
    shifted.write_text(FIRST_SOURCE_FACTS.read_text().replace("oa:start 717 ;", "oa:start 716 ;").replace(
        "oa:end 847 ;", "oa:end 846 ;"))
    result = kg("verify-quotes", "--source-text", SOURCES / "newsweek-isis-attacks-2024.txt", shifted)
    assert result.exit_code == 1
    assert "newsweek-isis-attacks-2024/attacks-2024-h1: the text at 716-846" in result.output
    assert "nearest match at 717 (100% similar)" in result.output


def test_verify_quotes_reports_a_different_text(tmp_path, source_text):
    other = tmp_path / "edited.txt"
    other.write_text(source_text.replace("153 attacks", "154 attacks"))
    result = kg("verify-quotes", "--source-text", other, FIRST_SOURCE_FACTS)
    assert result.exit_code == 1
    assert "this is not the text the facts were written from" in result.output
    assert "'154 attacks" not in result.output or "nearest match" in result.output
    report = verify_quotes(other.read_text(), Graph().parse(FIRST_SOURCE_FACTS))
    reworded = [p for p in report.problems if "153 attacks" in p.message]
    assert reworded and reworded[0].similarity > 0.95


def test_new_source_writes_a_template_that_parses_and_describes_the_source(tmp_path):
    result = kg(*NEW_SOURCE_ARGS, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    written = tmp_path / "fictional-monitor-2024.ttl"
    graph = Graph().parse(written)
    source = URIRef("https://w3id.org/conflict-kg/id/source/fictional-monitor-2024")
    assert (source, None, None) in graph
    text = written.read_text()
    for kind in ("kg:QuantityClaim", "kg:StanceClaim", "kg:StatementClaim", "kg:EventClaim", "kg:ExcludedPassage"):
        assert f"#     a {kind}" in text or f"a {kind} ;" in text, kind
    assert kg(*NEW_SOURCE_ARGS, "--out", tmp_path).exit_code == 2  # no silent overwrite


def test_every_example_of_the_template_parses_and_uses_only_the_ontologys_terms(tmp_path, ontology_graph):
    """Uncommented, the examples are Turtle whose every kg: term the ontology defines."""
    from kg.model.namespaces import KG

    kg(*NEW_SOURCE_ARGS, "--out", tmp_path)
    text = (tmp_path / "fictional-monitor-2024.ttl").read_text()
    head, examples = text.split("# Examples, one per kind of claim.", 1)
    prefixes = "".join(line + "\n" for line in head.splitlines() if line.startswith("PREFIX"))
    body = "\n".join(line[2:] for line in examples.splitlines() if re.match(r"# ([a-z][\w-]*:[\w{}-]+|\.|\]|    )", line))
    graph = Graph().parse(data=prefixes + body.replace("...", "x"), format="turtle")
    used = {t for triple in graph for t in triple if str(t).startswith(str(KG))}
    assert used and used <= set(ontology_graph.subjects()), used - set(ontology_graph.subjects())
    for construct in ("kg:fromCommunication", "kg:UnnamedPerson", "kg:OpenEndedPeriod", "kg:upperBound", "kg:ComparisonClaim",
                      "kg:derivedFrom", "kg:subsetOf", "kg:relativeTo", "kg:quotedWords", "kind:headline", "kg:weekday",
                      "kg:attributionBasis", "kg:issuedDateBasis"):
        assert construct in text, construct


def test_the_walkthrough_fixture_is_the_template_filled_in(tmp_path):
    kg(*NEW_SOURCE_ARGS, "--out", tmp_path)
    template = Graph().parse(tmp_path / "fictional-monitor-2024.ttl")
    filled = Graph().parse(FICTIONAL_FACTS)
    source = URIRef("https://w3id.org/conflict-kg/id/source/fictional-monitor-2024")
    kept = {(p, o) for p, o in template.predicate_objects(source) if "dateNote" not in str(p)}
    assert kept <= set(filled.predicate_objects(source))
    assert "FICTIONAL TEXT" in FICTIONAL_TEXT.read_text()


@pytest.mark.parametrize("args", [
    pytest.param(["--id", "Bad Id", "--title", "t", "--publisher", "p"], id="bad-id"),
    pytest.param(["--id", "ok-id", "--title", "t", "--publisher", "!!!"], id="bad-publisher"),
])
def test_new_source_refuses_bad_arguments(tmp_path, args):
    result = kg("new-source", *args, "--out", tmp_path)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_skeleton_with_no_claims_is_not_added(tmp_path):
    """The template as written, before any claim is filled in, is refused: a source with no claims is a violation."""
    store = tmp_path / "s"
    assert kg("load", "--store", store).exit_code == 0
    assert kg(*NEW_SOURCE_ARGS, "--out", tmp_path).exit_code == 0
    result = kg("add", tmp_path / "fictional-monitor-2024.ttl", "--dry-run", "--store", store)
    assert result.exit_code == 1
    assert "kgsh:SourceHasClaimsShape" in result.output and "This source has no claims" in result.output


def test_kg_anchor_computes_every_offset_prefix_and_suffix_from_the_exact_words(tmp_path, source_text):
    """The first source's facts with every offset, suffix and prefix removed — but the prefix of the one
    caption the text prints twice, the hint which occurrence is meant: kg anchor writes them back; the
    file holds the committed facts again, in kg's stable Turtle layout."""
    from rdflib.compare import isomorphic

    from rdflib import Graph

    graph = Graph().parse(FIRST_SOURCE_FACTS)
    graph.update("""PREFIX oa: <http://www.w3.org/ns/oa#>
        DELETE { ?r oa:hasSelector ?p . ?p ?x ?y } WHERE { ?r oa:hasSelector ?p . ?p a oa:TextPositionSelector ; ?x ?y } ;
        DELETE WHERE { ?q oa:suffix ?suffix }""")
    prefix, exact = URIRef("http://www.w3.org/ns/oa#prefix"), URIRef("http://www.w3.org/ns/oa#exact")
    for quote, words in list(graph.subject_objects(exact)):
        if source_text.count(str(words)) == 1:
            graph.remove((quote, prefix, None))
    assert len(set(graph.subject_objects(prefix))) == 3  # the caption, quoted by three claims
    stripped = tmp_path / FIRST_SOURCE_FACTS.name
    stripped.write_text(graph.serialize(format="longturtle"), encoding="utf-8")
    text = tmp_path / "source.txt"
    text.write_bytes(source_text.encode("utf-8"))
    result = CliRunner().invoke(main, ["anchor", str(stripped), "--source-text", str(text)])
    assert result.exit_code == 0, result.output
    assert "42 quotes placed in the text; 42 changed" in result.output, result.output
    written = stripped.read_text(encoding="utf-8")
    assert isomorphic(Graph().parse(data=written, format="turtle"), Graph().parse(FIRST_SOURCE_FACTS))
    assert Graph().parse(data=written, format="turtle").serialize(format="longturtle") == written
    again = CliRunner().invoke(main, ["anchor", str(stripped), "--source-text", str(text)])
    assert "0 changed" in again.output


def test_kg_anchor_refuses_words_that_occur_twice_without_a_hint(tmp_path, source_text):
    facts = tmp_path / FIRST_SOURCE_FACTS.name
    original = FIRST_SOURCE_FACTS.read_text(encoding="utf-8")
    exact = 'oa:exact "This amnesty could see the release of hundreds of Syrians detained by the Syrian Democratic Forces for their involvement with ISIS." ;\n                    oa:prefix "Wednesday, according to the AP. " ;'
    assert exact in original
    facts.write_text(original.replace(exact, 'oa:exact "ISIS" ;'), encoding="utf-8")
    before = facts.read_bytes()
    text = tmp_path / "source.txt"
    text.write_bytes(source_text.encode("utf-8"))
    result = CliRunner().invoke(main, ["anchor", str(facts), "--source-text", str(text)])
    assert result.exit_code == 1
    assert "the words 'ISIS' occur" in result.output and "give oa:prefix, oa:suffix or oa:start to say which" in result.output
    assert "was not changed" in result.output and facts.read_bytes() == before


def test_new_source_draft_writes_one_anchored_stub_per_sentence_with_a_figure_or_a_reporting_verb(tmp_path):
    """The fictional text has two such sentences; the stubs quote them exactly and do not validate until completed."""
    out = tmp_path / "facts"
    result = kg(*NEW_SOURCE_ARGS, "--out", out, "--draft")
    assert result.exit_code == 0, result.output
    assert "with 2 claim stubs to complete or delete" in result.output
    path = out / "fictional-monitor-2024.ttl"
    text = FICTIONAL_TEXT.read_text(encoding="utf-8")
    graph = Graph().parse(path)
    claims = sorted(str(c).rsplit("/", 1)[-1] for c in graph.subjects(
        URIRef("https://w3id.org/conflict-kg/ontology#statedIn"), None))
    assert claims == ["draft-01", "draft-02"]
    assert verify_quotes(text, graph).ok
    report = coverage(text, graph)
    assert report.summary() == "sentences: 2/3 covered (2 quoted, 0 excluded); numbers: 4/4 covered (4 quoted, 0 excluded)"
    assert "# Draft 1 (74-206) — figures: 160, half, 2024; reported with: said, claimed" in path.read_text()
    store = tmp_path / "store"
    assert kg("load", "--store", store).exit_code == 0
    added = kg("add", path, "--dry-run", "--store", store)
    assert added.exit_code == 1
    line = next(n for n, text_line in enumerate(path.read_text().splitlines(), 1) if text_line == "claim:draft-02")
    assert f"Violation: {path}:{line}: fictional-monitor-2024/draft-02" in added.output
    assert "typed kg:Claim only" in added.output
    assert added.output.count("Validation does not conform") == 1


def test_new_source_draft_needs_the_text(tmp_path):
    result = kg("new-source", "--id", "x-2024", "--title", "X", "--publisher", "actor:newsweek", "--draft",
                "--out", tmp_path)
    assert result.exit_code == 2 and "--draft needs --source-text" in result.output
    assert not (tmp_path / "x-2024.ttl").exists()
