"""Reading facts files: Turtle in, an rdflib graph out, or a message a person can act on.

Every failure is a :class:`~kg.model.errors.BadInputError` whose message names the file and,
for syntax errors, the line and column with the offending line and a caret.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import OWL, RDF, Graph, Literal, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from kg.model.errors import BadInputError
from kg.model.inputs import read_bounded, regular_file
from kg.model.namespaces import KG, SOURCE_TYPES, VOID

_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
#: Unicode categories that make an IRI look like another: format (zero-width, bidi controls), controls,
#: separators, private use, unassigned.
_INVISIBLE = {"Cf", "Cc", "Zs", "Zl", "Zp", "Co", "Cn"}
#: Files larger than this are refused before parsing; a facts file for one report is tiny.
MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class FactsFile:
    """One parsed file and the named graph it belongs in.

    Attributes:
        path: Where it was read from.
        graph: Its triples.
        graph_iri: The named graph: the source document's IRI for a facts file, the
            ontology IRI for an ontology, the dataset IRI for reference data.
    """

    path: Path
    graph: Graph
    graph_iri: URIRef
    triples: int | None = None

    @property
    def size(self) -> int:
        """Its number of triples."""
        return self.triples if self.triples is not None else len(self.graph)


def read_turtle(path: str | Path) -> Graph:
    """Parse a Turtle file, explaining any problem in words.

    Args:
        path: The file to read.

    Returns:
        The parsed graph.

    Raises:
        BadInputError: The file is missing, empty, binary, not UTF-8, in another RDF
            syntax, too large, or not valid Turtle.

    >>> from kg.model.resources import ontology_path
    >>> len(read_turtle(ontology_path())) > 400
    True
    """
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"{path} is a folder; give the Turtle files in it (e.g. {path}/*.ttl).")
    try:
        data = read_bounded(regular_file(path, what="a facts file"), limit=MAX_FILE_BYTES, what="a facts file")
    except BadInputError as error:
        if "above kg's limit" in str(error):
            raise BadInputError(f"{error} A file holds the facts of one report, so split it by source.") from None
        raise
    text = _decode(path, data)
    graph = Graph()
    quiet = logging.getLogger("rdflib.term")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # bad IRIs are reported below, in words, not as rdflib's log lines
    try:
        graph.parse(data=text, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as error:
        raise BadInputError(_syntax_message(path, text, error)) from None
    except Exception as error:  # rdflib raises several types for malformed terms
        raise BadInputError(f"{path}: not valid Turtle: {error}") from None
    finally:
        quiet.setLevel(level)
    iris = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    iris |= {t.datatype for t in graph.objects() if isinstance(t, Literal) and t.datatype is not None}  # xsd: mistyped too
    for term in iris:
        if _BAD_IRI.search(term):
            raise BadInputError(
                f"{path}: <{term}> is not a valid IRI (it contains a space or one of <>\"{{}}|^`\\); "
                "check the IRI or the prefix it was written with."
            )
        hidden = [c for c in term if unicodedata.category(c) in _INVISIBLE]
        if hidden:
            shown = term.encode("ascii", "backslashreplace").decode("ascii")
            names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in sorted(set(hidden)))
            raise BadInputError(
                f"{path}: <{shown}> contains invisible or text-direction characters ({names}): "
                "such an IRI looks like another one but names something else. Retype it."
            )
        try:
            ox.NamedNode(str(term))  # the IRI grammar (RFC 3987) Oxigraph holds every IRI to; rdflib is laxer
        except ValueError as error:
            shown = term.encode("ascii", "backslashreplace").decode("ascii")
            raise BadInputError(f"{path}: <{shown}> is not a valid IRI ({error}); check the IRI or the prefix it "
                                "was written with.") from None
    return graph


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise BadInputError(f"{path} is empty: a facts file must hold Turtle describing a source and its claims.")
    if b"\x00" in data[:8192]:
        raise BadInputError(f"{path} is a binary file, not Turtle text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInputError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "Turtle files must be UTF-8. Re-save it as UTF-8."
        ) from None
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<?xml") or head.startswith("<rdf:RDF"):
        raise BadInputError(f"{path} looks like RDF/XML, not Turtle. Convert it first, e.g. with "
                            "`rdfpipe -o turtle FILE.rdf > FILE.ttl`.")
    if head.startswith("{") or head.startswith("["):
        if re.search(r'"@(context|id|graph)"', head[:4096]):
            raise BadInputError(f"{path} looks like JSON-LD, not Turtle. Convert it first, e.g. with "
                                "`rdfpipe -i json-ld -o turtle FILE.jsonld > FILE.ttl`.")
    return text


def _syntax_message(path: Path, text: str, error: BadSyntax) -> str:
    offset = min(max(getattr(error, "_i", 0), 0), len(text))
    line_number = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    column = offset - line_start + 1
    why = getattr(error, "_why", str(error))
    return (
        f"{path}:{line_number}:{column}: Turtle syntax error: {why}\n"
        f"    {line}\n"
        f"    {' ' * (column - 1)}^"
    )


def graph_iri_for(graph: Graph, path: Path) -> URIRef:
    """The named graph a file belongs in.

    A facts file describes exactly one ``kg:SourceDocument``: its graph is that IRI. An
    ontology file's graph is its ``owl:Ontology`` IRI, reference data's its ``void:Dataset``.

    Raises:
        BadInputError: The file describes none of these, or several source documents.
    """
    sources = sorted(set(graph.subjects(RDF.type, KG.SourceDocument)) | set(graph.subjects(RDF.type, KG.NewsArticle)))
    if len(sources) > 1:
        raise BadInputError(
            f"{path} describes {len(sources)} source documents ({', '.join(sources)}); "
            "keep one source per file so each can be loaded and replaced on its own."
        )
    if sources:
        return URIRef(sources[0])
    for kind in (OWL.Ontology, VOID.Dataset):
        named = sorted(s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef))
        if named:
            return named[0]
    raise BadInputError(
        f"{path} describes no source document: a facts file must describe the report it encodes "
        "as a kg:SourceDocument (with its SHA-256), so its claims can cite it."
    )


def read_facts_file(path: str | Path) -> FactsFile:
    """Parse a file and find its named graph (see :func:`graph_iri_for`).

    A source's file may not mint ontology terms nor merge identities with ``owl:sameAs``
    onto kg's things (see :func:`check_source_terms`).
    """
    path = Path(path)
    graph = read_turtle(path)
    iri = graph_iri_for(graph, path)
    if any((iri, RDF.type, kind) in graph for kind in SOURCE_TYPES):
        check_source_terms(graph, path)
    return FactsFile(path=path, graph=graph, graph_iri=iri)


def check_source_terms(graph: Graph, path: Path) -> None:
    """Refuse a source file that defines ``kg:`` terms or declares ``owl:sameAs`` with a kg thing.

    A term minted in a source file would be the ontology's in every query; ``owl:sameAs``
    onto an actor would merge two identities for every reasoner (``skos:exactMatch`` or
    ``skos:closeMatch`` say the same without that).

    Raises:
        BadInputError: Naming the terms.
    """
    minted = sorted({str(s) for s in graph.subjects() if str(s).startswith(str(KG))})
    if minted:
        raise BadInputError(
            f"{path} defines ontology terms ({', '.join('kg:' + t[len(str(KG)):] for t in minted[:5])}): a source file "
            "may only use the ontology's terms. Propose new terms in ontology/kg.ttl, with a label and a definition."
        )
    # Retractions and earlier versions are the store's records, made by kg retract and kg add --replace:
    # a source file asserting them could withdraw other sources' claims.
    records = sorted({str(p) for p in (KG.retracts, KG.content) if (None, p, None) in graph}
                     | {str(c) for c in (KG.Retraction, KG.SourceVersion) if (None, RDF.type, c) in graph})
    if records:
        raise BadInputError(
            f"{path} asserts {', '.join('kg:' + t[len(str(KG)):] for t in records)}: retractions and earlier versions "
            "are the store's own records. Retract with `kg retract`; replace a source with `kg add --replace`."
        )
    for subject, other in graph.subject_objects(OWL.sameAs):
        if any(str(t).startswith(_KG_IDS) for t in (subject, other)):
            raise BadInputError(
                f"{path}: <{subject}> owl:sameAs <{other}> would merge a kg thing with another identity for every "
                "reasoner. Say that two names denote the same thing with skos:exactMatch (or skos:closeMatch)."
            )


_KG_IDS = "https://w3id.org/conflict-kg/id/"
_GRAPH_TYPES = {str(KG.SourceDocument), str(KG.NewsArticle), str(OWL.Ontology), str(VOID.Dataset)}


def sniff_facts_file(path: str | Path) -> FactsFile:
    """Find a file's named graph and triple count with Oxigraph's parser, without building an rdflib graph.

    For loads that skip validation (already validated, or ``--no-validate``); the graph of the
    returned :class:`FactsFile` is left empty. Files Oxigraph cannot parse are read with
    :func:`read_facts_file`, whose errors explain the problem.
    """
    import pyoxigraph as ox

    path = regular_file(path, what="a facts file")
    if path.stat().st_size > MAX_FILE_BYTES:
        return read_facts_file(path)  # raises the size error
    counts = 0
    typed: dict[str, set[str]] = {}
    try:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()):
            counts += 1
            if quad.predicate.value == str(RDF.type) and quad.object.value in _GRAPH_TYPES \
                    and isinstance(quad.subject, ox.NamedNode):
                typed.setdefault(quad.object.value, set()).add(quad.subject.value)
    except (SyntaxError, OSError, ValueError):
        return read_facts_file(path)
    sources = sorted(typed.get(str(KG.SourceDocument), set()) | typed.get(str(KG.NewsArticle), set()))
    if len(sources) > 1:
        return read_facts_file(path)  # raises the several-sources error
    for kind in (str(OWL.Ontology), str(VOID.Dataset)):
        if not sources and typed.get(kind):
            sources = sorted(typed[kind])
    if not sources:
        return read_facts_file(path)  # raises the no-source error
    return FactsFile(path=path, graph=Graph(), graph_iri=URIRef(sources[0]), triples=counts)
