"""The ontology: OWL Lite profile, header, labels and definitions, and no undefined terms."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kg.model.namespaces import KG, ONTOLOGY_GRAPH

VANN = "http://purl.org/vocab/vann/"

#: The OWL vocabulary OWL Lite allows (OWL 1 Lite, plus annotations and version info).
OWL_LITE = {
    OWL[name]
    for name in (
        "Ontology Class Thing Nothing ObjectProperty DatatypeProperty AnnotationProperty OntologyProperty "
        "FunctionalProperty InverseFunctionalProperty TransitiveProperty SymmetricProperty "
        "versionInfo versionIRI priorVersion backwardCompatibleWith incompatibleWith imports "
        "DeprecatedClass DeprecatedProperty equivalentClass equivalentProperty inverseOf sameAs differentFrom "
        "AllDifferent distinctMembers Restriction onProperty someValuesFrom allValuesFrom "
        "cardinality minCardinality maxCardinality intersectionOf"
    ).split()
}
CARDINALITIES = {OWL.cardinality, OWL.minCardinality, OWL.maxCardinality}


def owl_lite_violations(graph: Graph) -> list[str]:
    """What in the graph falls outside OWL Lite, in words (empty when inside it)."""
    problems = []
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and str(term).startswith(str(OWL)) and term not in OWL_LITE:
                problems.append(f"{term.n3()} is not OWL Lite")
    for subject, predicate, value in graph:
        if predicate in CARDINALITIES and (not isinstance(value, Literal) or value.toPython() not in (0, 1)):
            problems.append(f"{predicate.n3()} {value} on {subject}: OWL Lite allows cardinality 0 or 1 only")
    for _, members in graph.subject_objects(OWL.intersectionOf):
        for member in graph.items(members):
            if isinstance(member, BNode) and (member, RDF.type, OWL.Restriction) not in graph:
                problems.append("owl:intersectionOf with an anonymous class that is not a restriction")
    return sorted(set(problems))


def test_ontology_is_owl_lite(ontology_graph):
    assert owl_lite_violations(ontology_graph) == []


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param("kg:A owl:unionOf ( kg:B kg:C ) .", id="unionOf"),
        pytest.param("kg:A owl:complementOf kg:B .", id="complementOf"),
        pytest.param("kg:A owl:oneOf ( kg:b ) .", id="oneOf"),
        pytest.param("kg:A owl:disjointWith kg:B .", id="disjointWith"),
        pytest.param("[] a owl:Restriction ; owl:onProperty kg:p ; owl:hasValue kg:b .", id="hasValue"),
        pytest.param("[] a owl:Restriction ; owl:onProperty kg:p ; owl:maxCardinality 2 .", id="cardinality-2"),
        pytest.param("kg:A owl:intersectionOf ( kg:B [ owl:unionOf ( kg:C kg:D ) ] ) .", id="intersection-of-union"),
    ],
)
def test_profile_check_catches_constructs_outside_owl_lite(ontology_graph, extra):
    graph = Graph()
    graph += ontology_graph
    graph.parse(data=f"@prefix kg: <{KG}> . @prefix owl: <{OWL}> .\n{extra}", format="turtle")
    assert owl_lite_violations(graph), f"{extra!r} should be reported as outside OWL Lite"


def test_header(ontology_graph):
    ontology = ONTOLOGY_GRAPH
    assert (ontology, RDF.type, OWL.Ontology) in ontology_graph
    for prop in (OWL.versionIRI, OWL.versionInfo, DCTERMS.title, DCTERMS.description, DCTERMS.license,
                 DCTERMS.created, URIRef(VANN + "preferredNamespacePrefix"), URIRef(VANN + "preferredNamespaceUri")):
        assert ontology_graph.value(ontology, prop) is not None, f"ontology header lacks {prop}"
    assert str(ontology_graph.value(ontology, URIRef(VANN + "preferredNamespaceUri"))) == str(KG)


def _terms(graph: Graph) -> set[URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    return {s for kind in kinds for s in graph.subjects(RDF.type, kind) if str(s).startswith(str(KG))}


def test_every_term_has_one_label_per_language_and_a_definition(ontology_graph):
    terms = _terms(ontology_graph)
    assert len(terms) > 60
    for term in sorted(terms):
        languages = Counter(label.language for label in ontology_graph.objects(term, RDFS.label))
        assert languages, f"{term} has no rdfs:label"
        assert all(n == 1 for n in languages.values()), f"{term} has several labels in one language"
        definitions = [*ontology_graph.objects(term, SKOS.definition), *ontology_graph.objects(term, RDFS.comment)]
        assert definitions and all(len(str(d)) > 20 for d in definitions), f"{term} lacks a real definition"


def test_facts_and_shapes_use_only_defined_terms(ontology_graph, facts_graph, reference_graph, shapes_graph):
    defined = _terms(ontology_graph)
    used = set()
    for graph in (facts_graph, reference_graph, shapes_graph):
        for triple in graph:
            used.update(t for t in triple if isinstance(t, URIRef) and str(t).startswith(str(KG)))
    assert sorted(used - defined) == []
