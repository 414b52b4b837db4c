"""IRIs of the kg vocabulary, its data and the standard vocabularies it reuses."""

import re

from rdflib import Literal, Namespace, Node, URIRef

BASE = "https://w3id.org/conflict-kg/"
KG = Namespace(BASE + "ontology#")
KGSH = Namespace(BASE + "shapes#")
OA = Namespace("http://www.w3.org/ns/oa#")
TIME = Namespace("http://www.w3.org/2006/time#")
VOID = Namespace("http://rdfs.org/ns/void#")
UNIT = Namespace("http://qudt.org/vocab/unit/")

#: The named graph that holds the ontology.
ONTOLOGY_GRAPH = URIRef(BASE + "ontology")
#: The named graph that holds the reference data shared by all sources.
REFERENCE_GRAPH = URIRef(BASE + "id/reference")
#: The graph recording which file each named graph was loaded from, its hash and when.
MANIFEST_GRAPH = URIRef(BASE + "id/manifest")
#: The manifest's record of the rules (shapes, ontology) the whole store last validated under; absent
#: when the store is not known to conform (after a load without validation, a forced removal).
VALIDATED_UNDER = URIRef(BASE + "id/manifest#validatedUnder")
#: The manifest's record of the store's generation: a token every write changes, in its own transaction
#: (kept answers hold the generation they were computed at: :mod:`kg.queries.kept`).
GENERATION = URIRef(BASE + "id/manifest#generation")
#: The graph keeping the earlier versions of replaced sources (``kg history``).
HISTORY_GRAPH = URIRef(BASE + "id/history")
#: The graph of retraction records (``kg retract``); part of the data queries read.
RETRACTIONS_GRAPH = URIRef(BASE + "id/retractions")
#: kg's own bookkeeping: never listed as data, queried as data, exported or validated.
BOOKKEEPING_GRAPHS = (MANIFEST_GRAPH, HISTORY_GRAPH)

#: Prefixes for the kinds of things the data names (IRI scheme: ``{BASE}id/{kind}/{slug}``).
DATA_PREFIXES = {
    kind: BASE + f"id/{kind}/"
    for kind in (
        "actor", "place", "period", "measure", "topic", "stance", "event", "source", "communication",
        "kind", "standing", "qualifier", "role", "provision", "medium", "date-precision", "date-basis",
        "attribution-basis",
    )
}

#: Every prefix kg knows, for parameters and for shortening IRIs in tables.
PREFIXES = {
    "kg": str(KG),
    "kgsh": str(KGSH),
    "oa": str(OA),
    "time": str(TIME),
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "unit": str(UNIT),
    "wd": "http://www.wikidata.org/entity/",
    "void": str(VOID),
    **DATA_PREFIXES,
}


def turtle_prefixes(**extra: str) -> str:
    """``PREFIX`` lines for every prefix kg knows (plus ``extra``), sorted, for Turtle files kg writes.

    >>> "PREFIX claim: <https://example.org/claim/>" in turtle_prefixes(claim="https://example.org/claim/").splitlines()
    True
    """
    merged = {**PREFIXES, **extra}
    return "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in sorted(merged.items()))


_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
#: A slug or a source id, as the README's IRI scheme says: lower-case words joined by hyphens.
SLUG = re.compile(_SLUG)
#: The classes whose instance names a source's graph.
SOURCE_TYPES = (KG.SourceDocument, KG.NewsArticle)
_CLAIM_IRI = re.compile(rf"^{re.escape(BASE)}id/claim/({_SLUG})/({_SLUG})$")
_CLAIM_NAME = re.compile(rf"^({_SLUG})/({_SLUG})$")


def claim_name(iri: str) -> str | None:
    """How a claim is shown: ``SOURCE-ID/slug`` (unambiguous when several sources have an ``attacks-2024-h1``).

    >>> claim_name("https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1")
    'newsweek-isis-attacks-2024/attacks-2024-h1'
    """
    match = _CLAIM_IRI.match(str(iri))
    return f"{match.group(1)}/{match.group(2)}" if match else None


def claim_iri(name: str) -> URIRef | None:
    """The claim IRI a ``SOURCE-ID/slug`` name stands for, else ``None``.

    >>> claim_iri("newsweek-isis-attacks-2024/attacks-2024-h1")
    rdflib.term.URIRef('https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1')
    """
    match = _CLAIM_NAME.match(name.strip())
    return URIRef(f"{BASE}id/claim/{match.group(1)}/{match.group(2)}") if match else None


def claim_namespace(source_id: str) -> Namespace:
    """The namespace of the claims of one source.

    >>> claim_namespace("newsweek-isis-attacks-2024")["attacks-2024-h1"]
    rdflib.term.URIRef('https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1')
    """
    return Namespace(f"{BASE}id/claim/{source_id}/")


def shorten(node: Node | None) -> str | None:
    """An IRI as a prefixed name where kg knows the prefix; a literal as its text.

    >>> shorten(URIRef("https://w3id.org/conflict-kg/id/actor/isis"))
    'actor:isis'
    """
    if node is None:
        return None
    if isinstance(node, URIRef):
        best = max(
            ((prefix, ns) for prefix, ns in PREFIXES.items() if str(node).startswith(ns)),
            key=lambda item: len(item[1]),
            default=None,
        )
        if best and "/" not in str(node)[len(best[1]) :]:
            return f"{best[0]}:{str(node)[len(best[1]):]}"
        name = claim_name(node)
        if name:
            return name
        return f"<{node}>"
    if isinstance(node, Literal):
        return str(node)
    return "(blank node)"
