"""Pictures of the graph with Graphviz: a claim's neighbourhood, a source's claims, or an overview.

The DOT text is built here from SPARQL answers; Graphviz's ``dot`` (the system package,
e.g. ``apt-get install graphviz``) lays it out as SVG.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import graphviz
from rdflib import URIRef

from kg.model.atomicfile import write_bytes
from kg.model.errors import KgError
from kg.model.namespaces import shorten

_STYLE = {
    "claim": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe8f6"},
    "actor": {"shape": "ellipse", "style": "filled", "fillcolor": "#fbe3c4"},
    "source": {"shape": "note", "style": "filled", "fillcolor": "#e6e6e6"},
    "value": {"shape": "plaintext"},
    "context": {"shape": "box", "style": "dashed"},
}


def _new(title: str) -> graphviz.Digraph:
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR", "fontname": "Helvetica", "label": title, "labelloc": "t"},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    return dot


def _node(dot: graphviz.Digraph, key: str, label: str, kind: str) -> str:
    name = "n" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]  # stable across runs
    dot.node(name, label=_short(label), **_STYLE[kind])
    return name


def _short(text: str, width: int = 48) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)[:4]) or " "


def _rows(engine, sparql: str):
    result = engine.select(sparql)
    return [dict(zip(result.variables, row)) for row in result.rows]


def claim_graph(engine, claim: str) -> graphviz.Digraph:
    """A claim, its claimant, reporting chain, source, quote and content."""
    iri = URIRef(claim)
    found = _rows(engine, f"""
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        PREFIX oa: <http://www.w3.org/ns/oa#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?label ?claimant ?source ?quote ?kind WHERE {{
          {iri.n3()} rdfs:label ?label ; kg:claimant/rdfs:label ?claimant ; kg:statedIn ?source ;
                     kg:claimKind/rdfs:label ?kind ; kg:evidence/oa:hasSelector/oa:exact ?quote .
        }}""")
    if not found:
        raise KgError(f"No claim {claim} in the store (give the claim's full IRI; `kg query evidence` lists them).")
    row = found[0]
    dot = _new(f"{shorten(iri)}")
    c = _node(dot, claim, f"{row['label']}\n[{row['kind']}]", "claim")
    who = _node(dot, "claimant", str(row["claimant"]), "actor")
    dot.edge(who, c, label="claimant")
    steps = _rows(engine, f"""
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?order ?agent ?role WHERE {{ {iri.n3()} kg:reportedVia ?s . ?s kg:stepOrder ?order ;
          prov:agent/rdfs:label ?agent ; prov:hadRole/rdfs:label ?role }} ORDER BY ?order""")
    previous = who
    for step in steps:
        node = _node(dot, f"step{step['order']}", str(step["agent"]), "actor")
        dot.edge(previous, node, label=f"{step['order']}. {step['role']}")
        previous = node
    src = _node(dot, "source", shorten(row["source"]), "source")
    dot.edge(previous, src, label="published in", style="dashed")
    dot.edge(c, src, label="stated in")
    quote = _node(dot, "quote", f"“{row['quote']}”", "value")
    dot.edge(c, quote, label="evidence")
    for content in _rows(engine, f"""
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?property ?label WHERE {{
          VALUES ?property {{ kg:measure kg:period kg:place kg:about kg:aboutEvent kg:topic kg:stance kg:value }}
          {iri.n3()} ?property ?object . OPTIONAL {{ ?object rdfs:label ?l }}
          BIND (COALESCE(STR(?l), STR(?object)) AS ?label)
        }} ORDER BY ?property ?label"""):
        node = _node(dot, f"{content['property']}{content['label']}", str(content["label"]), "context")
        dot.edge(c, node, label=shorten(content["property"]).split(":", 1)[-1])
    return dot


def source_graph(engine, source: str) -> graphviz.Digraph:
    """A source document, its claims and who made them."""
    iri = URIRef(source)
    rows = _rows(engine, f"""
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?claim ?label ?claimant WHERE {{ ?claim kg:statedIn {iri.n3()} ; rdfs:label ?label ;
          kg:claimant/rdfs:label ?claimant }} ORDER BY ?claimant ?claim""")
    if not rows:
        raise KgError(f"No claims are stated in {source} (give the source's full IRI; `kg stats` lists the sources).")
    dot = _new(shorten(iri))
    src = _node(dot, source, shorten(iri), "source")
    for row in rows:
        claim = _node(dot, str(row["claim"]), str(row["label"]), "claim")
        who = _node(dot, f"actor{row['claimant']}", str(row["claimant"]), "actor")
        dot.edge(who, claim, label="claimant")
        dot.edge(claim, src)
    return dot


def overview_graph(engine) -> graphviz.Digraph:
    """Sources, the actors whose claims they carry, and the kinds of claim, with counts."""
    rows = _rows(engine, """
        PREFIX kg: <https://w3id.org/conflict-kg/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?source ?claimant ?kind (COUNT(?claim) AS ?n) WHERE {
          ?claim kg:statedIn ?source ; kg:claimant/rdfs:label ?claimant ; kg:claimKind/rdfs:label ?kind .
        } GROUP BY ?source ?claimant ?kind ORDER BY ?source ?claimant ?kind""")
    if not rows:
        raise KgError("The store holds no claims: load some with `kg load` first.")
    dot = _new("kg: sources, claimants and kinds of claim")
    seen_edges = set()
    for row in rows:
        src = _node(dot, str(row["source"]), shorten(row["source"]), "source")
        who = _node(dot, f"actor{row['claimant']}", str(row["claimant"]), "actor")
        kind = _node(dot, f"kind{row['kind']}", str(row["kind"]), "claim")
        if (src, who) not in seen_edges:
            dot.edge(src, who, label="relays")
            seen_edges.add((src, who))
        dot.edge(who, kind, label=str(row["n"]))
    return dot


def render_svg(dot: graphviz.Digraph, out: str | Path) -> Path:
    """Lay the graph out with Graphviz's dot and write SVG."""
    if shutil.which("dot") is None:
        raise KgError("Graphviz is not installed (its `dot` command is missing). Install it from your system's "
                      "packages, e.g. `apt-get install graphviz` or `brew install graphviz`.")
    out = Path(out)
    try:
        svg = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode("utf-8"), capture_output=True, check=True,
                             timeout=120).stdout
    except subprocess.CalledProcessError as error:
        raise KgError(f"Graphviz failed: {error.stderr.decode('utf-8', 'replace').strip()}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(out, svg)
    return out
