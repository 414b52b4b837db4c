"""Bad input files get a one-paragraph message, never a traceback, and the store is unchanged."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.errors import BadInputError
from kg.model.rdffiles import read_facts_file
from kg.stores.oxigraph import FactStore

SOURCE_HEADER = """@prefix kg: <https://w3id.org/conflict-kg/ontology#> .
@prefix source: <https://w3id.org/conflict-kg/id/source/> .
"""

BAD_FILES = [
    pytest.param(b"", "is empty", id="empty"),
    pytest.param(b"   \n\n", "is empty", id="whitespace-only"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file", id="binary"),
    pytest.param("@prefix kg: <https://w3id.org/conflict-kg/ontology#> .\nkg:a kg:b \"Caf\xe9\" .\n".encode("latin-1"),
                 "not UTF-8", id="latin-1"),
    pytest.param(b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
                 "looks like RDF/XML", id="rdf-xml"),
    pytest.param(b'{"@context": {"kg": "https://w3id.org/conflict-kg/ontology#"}, "@id": "kg:x"}',
                 "looks like JSON-LD", id="json-ld"),
    pytest.param(b"nope:a nope:b nope:c .\n", "Turtle syntax error", id="undefined-prefix"),
    pytest.param(b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n",
                 "describes no source document", id="unrelated-rdf"),
    pytest.param((SOURCE_HEADER + "source:a a kg:SourceDocument .\nsource:b a kg:SourceDocument .\n").encode(),
                 "describes 2 source documents", id="two-sources"),
]


@pytest.mark.parametrize("content, message", BAD_FILES)
def test_bad_file_is_explained(tmp_path, content, message):
    path = tmp_path / "facts.ttl"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=message):
        read_facts_file(path)


@pytest.mark.parametrize("content, message", BAD_FILES)
def test_bad_file_leaves_the_store_byte_for_byte_unchanged(tmp_path, content, message):
    store_path = tmp_path / "store"
    with FactStore(store_path) as store:
        store.load()
        before = store.export("nquads")
    path = tmp_path / "facts.ttl"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["load", str(path), "--store", str(store_path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    with FactStore(store_path) as store:
        assert store.export("nquads") == before


def test_a_folder_and_a_missing_file_are_explained(tmp_path):
    with pytest.raises(BadInputError, match="is a folder"):
        read_facts_file(tmp_path)
    with pytest.raises(BadInputError, match="no such file"):
        read_facts_file(tmp_path / "missing.ttl")


def test_a_control_character_in_a_datatype_iri_is_refused_in_one_paragraph(tmp_path):
    """Found by the fuzzer: U+0080 in the xsd prefix reached only literals' datatypes, which Oxigraph then refused."""
    from kg.model.errors import BadInputError
    from kg.model.rdffiles import read_turtle

    path = tmp_path / "f.ttl"
    path.write_text('PREFIX xsd: <\u0080ttp://www.w3.org/2001/XMLSchema#>\n<http://e/s> <http://e/p> "1"^^xsd:date .\n',
                    encoding="utf-8")
    with pytest.raises(BadInputError, match="U\\+0080"):
        read_turtle(path)


def test_an_iri_oxigraph_would_refuse_is_refused_at_parse(tmp_path):
    """Found by the fuzzer: rdflib takes <¡ttp://…> (no valid scheme); Oxigraph, later, would not."""
    from kg.model.errors import BadInputError
    from kg.model.rdffiles import read_turtle

    path = tmp_path / "f.ttl"
    path.write_text('<http://e/s> <http://e/p> <\u00a1ttp://e/o> .\n', encoding="utf-8")
    with pytest.raises(BadInputError, match="is not a valid IRI"):
        read_turtle(path)
