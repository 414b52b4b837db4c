"""`kg add`: nothing invalid gets in, every problem is explained, and checking a new file
reads only what it touches yet gives the verdict a full validation of store + file gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.cli.commands import main
from kg.model.errors import ValidationFailed
from kg.model.rdffiles import read_facts_file
from kg.model.resources import default_load_paths
from kg.services.add import add_files, check_files
from kg.stores.oxigraph import FactStore
from kg.validation.validator import validate

from conftest import FIRST_SOURCE_FACTS, FIXTURES

FICTIONAL = FIXTURES / "fictional-monitor-2024.ttl"
FICTIONAL_TEXT = FICTIONAL.read_text(encoding="utf-8")
FICTIONAL_GRAPH = "https://w3id.org/conflict-kg/id/source/fictional-monitor-2024"


def variant(tmp_path: Path, old: str, new: str, name: str = "variant.ttl") -> Path:
    assert old in FICTIONAL_TEXT, old
    path = tmp_path / name
    path.write_text(FICTIONAL_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


VARIANTS = [
    pytest.param(None, None, id="valid"),
    pytest.param("kg:value 160 ;", "kg:value 153 ;", id="valid-agrees-with-centcom"),
    pytest.param("    kg:claimant actor:fictional-monitor ;\n    kg:claimantStanding standing:non-party ;\n    kg:statedIn "
                 "source:fictional-monitor-2024 ;\n    kg:isDirectQuotation false ;\n    kg:measure",
                 "    kg:claimantStanding standing:non-party ;\n    kg:statedIn source:fictional-monitor-2024 ;\n"
                 "    kg:isDirectQuotation false ;\n    kg:measure", id="no-claimant"),
    pytest.param("kg:measure measure:attacks-claimed ;", "kg:measure measure:nowhere ;", id="measure-that-exists-nowhere"),
    pytest.param("kg:period period:2024-h1 ;", "kg:period period:2031 ;", id="period-that-exists-nowhere"),
    pytest.param("kg:about actor:isis ;\n    kg:value", "kg:about actor:isis ;\n    kg:claimant actor:nobody ;\n    kg:value",
                 id="second-unknown-claimant"),
    pytest.param("kg:value 160 ;", "kg:value -160 ;", id="negative-value"),
    pytest.param("oa:start 74 ;", "oa:start 75 ;", id="offsets-off-by-one"),
    pytest.param("kg:valueQualifier qualifier:exact ;\n    kg:valuePhrase \"160\"",
                 "kg:valueQualifier qualifier:exact ;\n    kg:valuePhrase \"over 160\"", id="over-marked-exact"),
    pytest.param("kg:claimant actor:fictional-monitor ;\n    kg:claimantStanding standing:non-party ;\n    kg:statedIn "
                 "source:fictional-monitor-2024 ;\n    kg:isDirectQuotation false ;\n    kg:measure",
                 "kg:claimant actor:centcom ;\n    kg:claimantStanding standing:non-party ;\n    kg:statedIn "
                 "source:fictional-monitor-2024 ;\n    kg:isDirectQuotation false ;\n    kg:measure", id="centcom-contradicts-itself"),
]


@pytest.fixture(scope="module")
def store():
    store = FactStore.in_memory()
    store.load()
    return store


def _keys(report):
    return sorted((p.severity, p.focus, p.shape, p.message) for p in report.problems)


@pytest.mark.parametrize("old, new", VARIANTS)
def test_incremental_verdict_equals_full_validation(tmp_path, store, old, new):
    path = FICTIONAL if old is None else variant(tmp_path, old, new)
    incremental = check_files(store, [path]).validation
    new_file = read_facts_file(path)
    own = {s for s in new_file.graph.subjects()} | {o for o in new_file.graph.objects() if type(o).__name__ == "BNode"}
    full = validate([*default_load_paths(), path])
    full_on_new = [p for p in full.problems if p.file == str(path)]
    assert incremental.conforms == (not any(p.severity == "Violation" for p in full.problems))
    assert _keys(incremental) == sorted((p.severity, p.focus, p.shape, p.message) for p in full_on_new)
    assert own  # the new file has nodes to check


def test_checking_reads_only_what_the_file_touches(store):
    report = check_files(store, [FICTIONAL])
    assert 0 < report.triples_read < sum(store.graphs().values()) / 10


def test_a_conflict_is_a_warning_and_the_file_is_added(tmp_path):
    with FactStore(tmp_path / "s") as store:
        store.load()
        report = add_files(store, [FICTIONAL])
        assert report.added and report.conforms
        (warning,) = report.validation.problems
        assert warning.severity == "Warning" and warning.shape == "kgsh:ConflictingFigureShape"
        assert "(153, claimed by US Central Command (CENTCOM))" in warning.message
        assert FICTIONAL_GRAPH in store.graphs()


def test_one_claimants_figure_relayed_differently_by_two_outlets_is_a_relay_variation_not_a_contradiction(
        tmp_path, store):
    path = variant(tmp_path, *[v.values for v in VARIANTS if v.id == "centcom-contradicts-itself"][0])
    report = check_files(store, [path]).validation
    assert report.conforms
    assert not [p for p in report.problems if p.shape == "kgsh:SelfContradictionShape"]
    (info,) = [p for p in report.problems if p.shape == "kgsh:RelayVariationShape"]
    assert info.severity == "Info" and info.focus == "fictional-monitor-2024/attacks-2024-h1"
    assert "newsweek-isis-attacks-2024/attacks-2024-h1 gives 153" in info.message


def test_a_claimant_contradicting_itself_in_one_source_is_a_warning_naming_both_claims(tmp_path, store):
    block_start = FICTIONAL_TEXT.index("claim:attacks-2024-h1\n")
    block = FICTIONAL_TEXT[block_start:FICTIONAL_TEXT.index("\n.\n", block_start) + 3]
    again = block.replace("claim:attacks-2024-h1\n", "claim:attacks-2024-h1-again\n").replace("kg:value 160 ;", "kg:value 170 ;")
    path = tmp_path / "twice.ttl"
    path.write_text(FICTIONAL_TEXT + "\n" + again, encoding="utf-8")
    report = check_files(store, [path]).validation
    assert report.conforms
    warnings = [p for p in report.problems if p.shape == "kgsh:SelfContradictionShape"]
    assert {p.focus for p in warnings} == {"fictional-monitor-2024/attacks-2024-h1", "fictional-monitor-2024/attacks-2024-h1-again"}
    assert any("gives 170" in p.message for p in warnings) and all(p.severity == "Warning" for p in warnings)


def test_a_reference_to_nothing_is_a_violation_and_nothing_is_added(tmp_path):
    path = variant(tmp_path, "kg:measure measure:attacks-claimed ;", "kg:measure measure:nowhere ;")
    with FactStore(tmp_path / "s") as store:
        store.load()
        before = store.export("nquads")
        with pytest.raises(ValidationFailed) as failure:
            add_files(store, [path])
        (problem,) = [p for p in failure.value.report.problems if p.severity == "Violation"]
        assert problem.shape == "kgsh:DanglingLinkShape" and "measure/nowhere, which is not described" in problem.message
        assert store.export("nquads") == before


def test_add_cli_explains_each_problem_and_exits_1(tmp_path):
    store_path = tmp_path / "s"
    CliRunner().invoke(main, ["load", "--store", str(store_path)])
    path = variant(tmp_path, "kg:value 160 ;", "kg:value -160 ;")
    result = CliRunner().invoke(main, ["add", str(path), "--store", str(store_path)])
    assert result.exit_code == 1
    line = path.read_text(encoding="utf-8").splitlines().index("claim:attacks-2024-h1") + 1  # where the claim is described
    assert f"Violation: {path}:{line}: fictional-monitor-2024/attacks-2024-h1 (ISIS claimed responsibility for 160 attacks" in result.output
    assert "non-negative" in result.output and "value: -160" in result.output and "nothing was loaded" in result.output


def test_add_cli_dry_run_and_add(tmp_path):
    store_path = tmp_path / "s"
    CliRunner().invoke(main, ["load", "--store", str(store_path)])
    dry = CliRunner().invoke(main, ["add", str(FICTIONAL), "--dry-run", "--store", str(store_path)])
    assert dry.exit_code == 0 and "would add" in dry.output
    with FactStore(store_path) as store:
        assert FICTIONAL_GRAPH not in store.graphs()
    added = CliRunner().invoke(main, ["add", str(FICTIONAL), "--store", str(store_path)])
    assert added.exit_code == 0 and "added" in added.output and "1 warning" in added.output
    again = CliRunner().invoke(main, ["add", str(FICTIONAL), "--store", str(store_path)])
    assert again.exit_code == 2 and "--replace" in again.output and "unchanged" in again.output
    corrected = variant(tmp_path, "kg:value 160 ;", "kg:value 161 ;")
    refused = CliRunner().invoke(main, ["add", str(corrected), "--store", str(store_path)])
    assert refused.exit_code == 2 and "already in the store" in refused.output and "unchanged" not in refused.output
    replaced = CliRunner().invoke(main, ["add", "--replace", str(corrected), "--reason", "corrected", "--store", str(store_path)])
    assert replaced.exit_code == 0, replaced.output
    with FactStore(store_path) as store:
        assert store.graphs()[FICTIONAL_GRAPH] == len(read_facts_file(corrected).graph)
        (value,) = store.select("SELECT ?v WHERE { <https://w3id.org/conflict-kg/id/claim/fictional-monitor-2024/"
                                "attacks-2024-h1> <https://w3id.org/conflict-kg/ontology#value> ?v }").rows[0]
        assert int(value) == 161


SOURCE_HEADER = """@prefix kg: <https://w3id.org/conflict-kg/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""

NOT_OWNED = [
    pytest.param(SOURCE_HEADER + "<https://w3id.org/conflict-kg/id/reference> a kg:SourceDocument .\n",
                 "is not a source's", id="declares-the-reference-datasets-iri-a-source"),
    pytest.param(SOURCE_HEADER + "<https://w3id.org/conflict-kg/ontology> a kg:SourceDocument .\n",
                 "is not a source's", id="declares-the-ontologys-iri-a-source"),
    pytest.param(SOURCE_HEADER + "<https://w3id.org/conflict-kg/ontology> a owl:Ontology ; rdfs:label \"x\" .\n",
                 "not a source's facts file", id="is-an-ontology"),
    pytest.param(SOURCE_HEADER + "<https://w3id.org/conflict-kg/id/reference> a <http://rdfs.org/ns/void#Dataset> .\n",
                 "not a source's facts file", id="is-reference-data"),
    pytest.param(SOURCE_HEADER + "<https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024> a kg:SourceDocument ;"
                 " rdfs:label \"x\" .\n", "kg add --replace", id="declares-another-sources-iri"),
]


@pytest.mark.parametrize("content, message", NOT_OWNED)
def test_add_never_replaces_what_it_does_not_own(tmp_path, disk_store, content, message):
    """The reference data and ontology are never replaced by `kg add`; another source only with --replace."""
    before = _export(disk_store)
    path = tmp_path / "hostile.ttl"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["add", str(path), "--store", str(disk_store)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "conforms" not in result.output
    assert _export(disk_store) == before


IRI_SCHEME_VIOLATIONS = [
    pytest.param("claim:attacks-2024-h1\n", "<https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-"
                 "copied>\n", "kgsh:ClaimIriShape", "not in that source's namespace", id="claim-outside-its-source-namespace"),
    pytest.param("actor:fictional-monitor\n    a kg:ThinkTank", "actor:Fictional_Monitor\n    a kg:ThinkTank",
                 "kgsh:IriSchemeShape", "does not follow its scheme", id="slug-with-capitals-and-underscore"),
    pytest.param("claim:attacks-2024-h1\n", "<https://w3id.org/conflict-kg/id/claims/attacks>\n", "kgsh:IriSchemeShape",
                 "does not follow its scheme", id="unknown-kind-of-thing"),
]


@pytest.mark.parametrize("old, new, shape, message", IRI_SCHEME_VIOLATIONS)
def test_the_iri_scheme_is_enforced(tmp_path, store, old, new, shape, message):
    path = variant(tmp_path, old, new)
    report = check_files(store, [path]).validation
    assert not report.conforms
    assert any(p.shape == shape and message in p.message for p in report.problems), report.to_text()


def test_a_claim_as_a_blank_node_is_a_violation(tmp_path, store):
    path = variant(tmp_path, "claim:attacks-2024-h1\n    a kg:QuantityClaim ;", "[]\n    a kg:QuantityClaim ;")
    text = path.read_text().replace("[]\n    a kg:QuantityClaim ;", "[ a kg:QuantityClaim ;", 1)
    text = text.replace("    ] ;\n.\n\nclaim:attacks-likely-to-rise", "    ] ] .\n\nclaim:attacks-likely-to-rise", 1)
    path.write_text(text)
    report = check_files(store, [path]).validation
    assert any(p.shape == "kgsh:ClaimIriShape" and "never a blank node" in p.message for p in report.problems), \
        report.to_text()


def test_a_link_to_something_described_nowhere_is_a_violation_naming_it(tmp_path, store):
    path = variant(tmp_path, "kg:value 160 ;", "kg:value 160 ;\n    kg:restates "
                   "<https://w3id.org/conflict-kg/id/claim/nowhere-2024/attacks> ;")
    report = check_files(store, [path]).validation
    (problem,) = [p for p in report.problems if p.shape == "kgsh:DanglingLinkShape"]
    assert problem.severity == "Violation"
    assert "claim/nowhere-2024/attacks, which is not described anywhere" in problem.message


def test_replacing_a_source_rechecks_the_claims_of_other_sources_that_point_into_it(tmp_path):
    """A corrected source that drops a claim another source restates is refused: the link would dangle."""
    relaying = variant(tmp_path, "kg:value 160 ;", "kg:value 160 ;\n    kg:restates "
                       "<https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1> ;")
    newsweek = FIRST_SOURCE_FACTS
    renamed = tmp_path / newsweek.name
    renamed.write_text(newsweek.read_text(encoding="utf-8").replace("claim:attacks-2024-h1\n", "claim:attacks-first-half\n")
                       .replace("claim:attacks-2024-h1 ", "claim:attacks-first-half "), encoding="utf-8")
    with FactStore(tmp_path / "s") as store:
        store.load()
        add_files(store, [relaying])
        before = store.export("nquads")
        with pytest.raises(ValidationFailed) as failure:
            add_files(store, [renamed], replace=True, reason="renamed a claim")
        (problem,) = [p for p in failure.value.report.problems if p.severity == "Violation"]
        assert problem.shape == "kgsh:DanglingLinkShape"
        assert problem.file == "the stored source <https://w3id.org/conflict-kg/id/source/fictional-monitor-2024>"
        assert store.export("nquads") == before
        # The same correction that keeps the claim is accepted.
        add_files(store, [newsweek], replace=True, reason="back")


ONTOLOGY_REDEFINITION = """@prefix kg: <https://w3id.org/conflict-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
kg:Claim rdfs:label "a rumour"@en .
"""

BAD_ADDS = [
    pytest.param(b"", "is empty", id="empty"),
    pytest.param(b"\x00\x01\x02binary", "binary file", id="binary"),
    pytest.param("@prefix kg: <https://w3id.org/conflict-kg/ontology#> .\nkg:a kg:b \"\xe9\" .".encode("latin-1"), "not UTF-8",
                 id="wrong-encoding"),
    pytest.param(b"claim:x kg:value 1 .\n", "Turtle syntax error", id="undefined-prefixes"),
    pytest.param(b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "RDF/XML",
                 id="rdf-xml-as-turtle"),
    pytest.param(b'[{"@id": "http://example.org/a", "@type": ["http://example.org/T"]}]', "JSON-LD", id="json-ld-as-turtle"),
    pytest.param(b"<http://example.org/a> <http://example.org/b> 1 .\n", "describes no source document", id="unrelated-rdf"),
    pytest.param((FICTIONAL_TEXT + ONTOLOGY_REDEFINITION.split(" .\n", 2)[-1]).encode(), "defines ontology terms (kg:Claim)",
                 id="redefines-ontology-terms"),
    pytest.param((FICTIONAL_TEXT + "\nkg:Rumour a <http://www.w3.org/2002/07/owl#Class> ; rdfs:label \"rumour\"@en .\n").encode(),
                 "defines ontology terms (kg:Rumour)", id="mints-a-new-ontology-term"),
    pytest.param(FICTIONAL_TEXT.replace("kg:claimant actor:fictional-monitor ;", "kg:claimant <https://w3id.org/conflict-kg/id/"
                                        "actor/centcom\u200b> ;", 1).encode() + "\n<https://w3id.org/conflict-kg/id/actor/"
                 "centcom\u200b> a kg:MilitaryCommand ; rdfs:label \"CENTCOM\"@en .\n".encode(),
                 "U+200B ZERO WIDTH SPACE", id="zero-width-lookalike-of-centcom"),
    pytest.param((FICTIONAL_TEXT + "\n<https://w3id.org/conflict-kg/id/actor/\u202ecentcom> a kg:MilitaryCommand .\n").encode(),
                 "U+202E RIGHT-TO-LEFT OVERRIDE", id="bidi-override-in-an-iri"),
    pytest.param((FICTIONAL_TEXT + "\nactor:fictional-monitor <http://www.w3.org/2002/07/owl#sameAs> actor:centcom .\n").encode(), "owl:sameAs",
                 id="same-as-onto-a-reference-actor"),
    pytest.param((FICTIONAL_TEXT + "\n<http://example.org/x> <http://www.w3.org/2002/07/owl#sameAs> actor:isis .\n").encode(), "owl:sameAs",
                 id="same-as-from-outside-onto-a-reference-actor"),
    pytest.param((FICTIONAL_TEXT + "\n<https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1> "
                  "kg:value 9 .\n").encode(), "already described elsewhere", id="collides-with-another-sources-claim"),
    pytest.param((FICTIONAL_TEXT + "\nactor:isis rdfs:label \"Daesh\"@en .\n").encode(), "already described elsewhere",
                 id="redefines-a-reference-actor"),
]


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("add") / "store"
    with FactStore(path) as store:
        store.load()
    return path


def _export(path: Path) -> bytes:
    with FactStore(path) as store:
        return store.export("nquads")


@pytest.mark.parametrize("content, message", BAD_ADDS)
def test_bad_input_to_add_gets_a_message_and_leaves_the_store_unchanged(tmp_path, disk_store, content, message):
    before = _export(disk_store)
    path = tmp_path / "new.ttl"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["add", str(path), "--store", str(disk_store)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert _export(disk_store) == before


def test_a_50_mb_file_is_refused_before_parsing(tmp_path, disk_store):
    before = _export(disk_store)
    path = tmp_path / "huge.ttl"
    with path.open("wb") as out:
        out.write(FICTIONAL_TEXT.encode())
        chunk = b"# padding " + b"x" * 1000 + b"\n"
        for _ in range(50 * 1024):
            out.write(chunk)
    result = CliRunner().invoke(main, ["add", str(path), "--store", str(disk_store)])
    assert result.exit_code == 2 and "MB" in result.output and "split it by source" in result.output
    assert _export(disk_store) == before


def test_a_syntax_error_in_add_points_at_line_and_column(tmp_path, disk_store):
    path = variant(tmp_path, 'kg:valuePhrase "160" ;', 'kg:valuePhrase "160 ;')
    result = CliRunner().invoke(main, ["add", str(path), "--store", str(disk_store)])
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: Turtle syntax error", result.output)
    assert "^" in result.output


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(min_value=0, max_value=len(FICTIONAL_TEXT.encode()) - 1),
                                st.binary(min_size=0, max_size=3)), min_size=1, max_size=4))
def test_random_byte_edits_never_crash_add_nor_change_the_store_when_rejected(tmp_path_factory, disk_store, edits):
    data = bytearray(FICTIONAL_TEXT.encode())
    for position, replacement in edits:
        position = min(position, len(data))
        data[position : position + 1] = replacement
    path = tmp_path_factory.mktemp("fuzz") / "fuzzed.ttl"
    path.write_bytes(bytes(data))
    before = _export(disk_store)
    result = CliRunner().invoke(main, ["add", str(path), "--store", str(disk_store)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1, 2)
    if result.exit_code != 0:
        assert _export(disk_store) == before
    else:
        with FactStore(disk_store) as store:  # accepted: put the store back for the next example
            store.remove(str(read_facts_file(path).graph_iri))
        assert _export(disk_store) == before
