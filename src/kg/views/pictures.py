"""Pictures of the graph with Graphviz: a claim's neighbourhood, a source's claims, or an overview.

The DOT text is built here from the answers of the queries in ``queries/pictures/`` (stored
queries like the others, their parameters bound by the engine, never pasted in); Graphviz's
``dot`` (the system package, e.g. ``apt-get install graphviz``) lays it out as SVG.
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


def _rows(engine, name: str, **params: str) -> list[dict]:
    """The rows (as rdflib terms) of the picture query ``queries/pictures/NAME.rq``."""
    from kg.model.resources import queries_dir
    from kg.queries.catalogue import load_catalogue, run_query

    result = run_query(load_catalogue(queries_dir() / "pictures")[name], engine=engine, params=params)
    return [dict(zip(result.variables, row)) for row in result.terms]


def claim_graph(engine, claim: str) -> graphviz.Digraph:
    """A claim, its claimant, reporting chain, source, quote and content."""
    iri = URIRef(claim)
    found = _rows(engine, "claim", claim=str(iri))
    if not found:
        raise KgError(f"No claim {claim} in the store (give the claim's full IRI; `kg query evidence` lists them).")
    row = found[0]
    dot = _new(f"{shorten(iri)}")
    c = _node(dot, claim, f"{row['label']}\n[{row['kind']}]", "claim")
    who = _node(dot, "claimant", str(row["claimant"]), "actor")
    dot.edge(who, c, label="claimant")
    steps = _rows(engine, "claim-chain", claim=str(iri))
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
    for content in _rows(engine, "claim-content", claim=str(iri)):
        node = _node(dot, f"{content['property']}{content['label']}", str(content["label"]), "context")
        dot.edge(c, node, label=shorten(content["property"]).split(":", 1)[-1])
    return dot


def source_graph(engine, source: str) -> graphviz.Digraph:
    """A source document, its claims and who made them."""
    iri = URIRef(source)
    rows = _rows(engine, "source", source=str(iri))
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
    rows = _rows(engine, "overview")
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
