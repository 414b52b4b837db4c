"""HTML documentation of the ontology (pyLODE) and of the shapes that constrain each term."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import SH, SKOS

from kg.model.atomicfile import write_text
from kg.model.errors import KgError
from kg.model.namespaces import KG
from kg.model.namespaces import shorten
from kg.model.resources import ontology_path, shapes_path


def shapes_by_term(shapes: Graph, ontology: Graph) -> dict[URIRef, list[dict]]:
    """For each kg term, the shapes that constrain it: as target class, as path, or as sh:class.

    >>> from kg.model.rdffiles import read_turtle
    >>> found = shapes_by_term(read_turtle(shapes_path()), read_turtle(ontology_path()))
    >>> sorted(s["shape"] for s in found[KG.claimant])
    ['kgsh:ClaimClaimantShape']
    """
    terms = {s for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty) for s in ontology.subjects(RDF.type, kind)
             if str(s).startswith(str(KG))}
    found: dict[URIRef, list[dict]] = defaultdict(list)

    def add(term, shape, how):
        if term in terms:
            message = shapes.value(shape, SH.message)
            entry = {"shape": shorten(shape), "how": how, "message": str(message) if message else ""}
            if entry not in found[term]:
                found[term].append(entry)

    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)),
                        key=str):
        if not isinstance(shape, URIRef):
            continue
        for target in shapes.objects(shape, SH.targetClass):
            add(target, shape, "targets its instances")
        for target in shapes.objects(shape, SH.targetObjectsOf):
            add(target, shape, "checks its values")
        for path in shapes.objects(shape, SH.path):
            add(path, shape, "constrains this property")
        for cls in shapes.objects(shape, SH["class"]):
            add(cls, shape, "requires values of this class")
    return found


def write_docs(out: str | Path) -> list[Path]:
    """Write ``index.html`` (pyLODE's ontology documentation) and ``shapes.html`` into a folder."""
    from pylode import OntPub

    from kg.model.rdffiles import read_turtle

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))  # pyLODE logs at INFO on the root
    try:
        html = OntPub(ontology=str(ontology_path())).make_html()
    except Exception as error:  # pyLODE raises bare exceptions for ontology problems
        raise KgError(f"pyLODE could not document the ontology: {error}") from None
    link = '<p><a href="shapes.html">The SHACL shapes that constrain each term</a></p>'
    html = html.replace("<body>", f"<body>{link}", 1) if "<body>" in html else link + html
    index = out / "index.html"
    write_text(index, html)

    ontology, shapes = read_turtle(ontology_path()), read_turtle(shapes_path())
    constrained = shapes_by_term(shapes, ontology)
    terms = []
    for term in sorted({s for s in ontology.subjects() if isinstance(s, URIRef) and str(s).startswith(str(KG))}):
        kind = "class" if (term, RDF.type, OWL.Class) in ontology else "property"
        terms.append({
            "name": shorten(term), "id": str(term).split("#")[-1], "kind": kind,
            "label": str(ontology.value(term, RDFS.label) or ""),
            "definition": str(ontology.value(term, SKOS.definition) or ontology.value(term, RDFS.comment) or ""),
            "domain": shorten(ontology.value(term, RDFS.domain)) or "", "range": shorten(ontology.value(term, RDFS.range)) or "",
            "shapes": constrained.get(term, []),
        })
    environment = Environment(loader=PackageLoader("kg.views", "templates"), autoescape=select_autoescape(default=True))
    page = environment.get_template("shapes.html").render(terms=terms)
    shapes_page = out / "shapes.html"
    write_text(shapes_page, page)
    return [index, shapes_page]
