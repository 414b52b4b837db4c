"""A self-contained HTML report: each comparison question answered, charted and cited.

The page needs no network: styles are inlined and charts are matplotlib SVG embedded in
the HTML, with their text drawn as paths. Every figure links to its evidence further down
the page: claimant, reporting chain, source, and the quote with the words around it
highlighted. Everything taken from the facts is escaped by Jinja2's autoescaping.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rdflib import URIRef

from kg.model.atomicfile import write_text
from kg.model.namespaces import shorten
from kg.queries.catalogue import QueryResult, load_catalogue, run_query

#: The questions the report answers, in order. Each query's ``#+ chart:`` names its picture and its
#: ``#+ evidence:`` which claim cites each value: the report knows no query's columns.
SECTIONS = ("sources", "compare-periods", "compare-places", "totals-vs-parts", "figures-by-place", "positions", "disagreements",
            "date-conflicts", "wording-variants", "corroboration", "overview")

#: "Where the sources disagree": one section per kind of difference the disagreements query names.
DISAGREEMENT_KINDS = (
    ("value conflict", "Value conflicts: different claimants, values that cannot both be right"),
    ("relay variation", "Relay variations: outlets relaying one claimant's figure differently"),
    ("self-contradiction", "Self-contradictions: one claimant, two values in one source"),
    ("attribution conflict", "Attribution conflicts: the same figure credited to different claimants"),
)


@dataclass
class Section:
    """One question: its answer table, its chart and the claims it cites."""

    name: str
    question: str
    description: str
    columns: list[str]
    rows: list[list[dict[str, Any]]]
    chart_svg: str | None = None
    chart_caption: str | None = None
    notes: list[str] = field(default_factory=list)


def anchor(claim: URIRef | str) -> str:
    """The id of a claim's evidence entry in the page.

    >>> anchor("https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1")
    'ev-newsweek-isis-attacks-2024-attacks-2024-h1'
    """
    tail = str(claim).split("/id/claim/", 1)[-1]
    return "ev-" + re.sub(r"[^A-Za-z0-9_-]+", "-", tail).strip("-")


#: Column names whose generic reading ("first days") would be clumsy.
_COLUMN_WORDS = {
    "days_a": "days in the first period", "days_b": "days in the second period",
    "annualised_a": "first, annualised", "annualised_b": "second, annualised",
    "share_a_percent": "first share (%)", "share_b_percent": "second share (%)",
    "is_direct_quotation": "direct quotation", "at_least_double_annualised": "at least double, annualised",
    "periods_differ_in_length": "periods differ in length", "subject_label": "about",
}
#: Tables with more columns than this are shown one record per row, each value beside its column's name.
WIDE_TABLE_COLUMNS = 6


def column_words(name: str) -> str:
    """A query column's name in words, for people: ``period_a_label`` → "first period".

    >>> [column_words(c) for c in ("period_a_label", "source_b_title", "claimant_a", "measure_label", "days_a")]
    ['first period', 'second source', 'first claimant', 'measure', 'days in the first period']
    """
    if name in _COLUMN_WORDS:
        return _COLUMN_WORDS[name]
    words = name.split("_")
    while len(words) > 1 and words[-1] in ("label", "title"):
        words.pop()
    order = next((ordinal for letter, ordinal in (("a", "first"), ("b", "second")) if letter in words), None)
    words = [w for w in words if w not in ("a", "b")]
    return " ".join([order] * (order is not None) + words)


def plain_measure(label: str, subject: str | None) -> str:
    """A measure's label in plain words, the actor it is about named.

    >>> plain_measure("attacks the subject actor claimed responsibility for", "ISIS")
    'attacks ISIS claimed responsibility for'
    >>> plain_measure("operatives of the subject actor detained", None)
    'operatives detained'
    """
    if subject:
        return label.replace("the subject actor", subject)
    return label.replace(" of the subject actor", "").replace("the subject actor", "the actor")


def _cells(result: QueryResult) -> tuple[list[str], list[list[dict[str, Any]]], set[str]]:
    """Table cells with their evidence links; the claim columns themselves become links."""
    claim_columns = {c for c in result.variables if c == "claim" or c.startswith("claim_") or c.endswith("_claim")}
    # Quotes and sources of figures are one click away, in the evidence section; a stance's own words stay.
    # Sources are shown by title (their *_title columns), never as IRIs.
    hidden = claim_columns | {c for c in result.variables if (c.startswith("source") or c.endswith("_source"))
                              and not c.endswith("_title")
                              or (c.endswith("quote") or c.startswith("quote_")) and c != "quote"}
    columns = [c for c in result.variables if c not in hidden]
    cited: set[str] = set()
    rows = []
    for row in result.rows:
        cells = []
        for column in columns:
            value = row.get(column)
            link_column = result.query.evidence.get(column)
            target = row.get(link_column) if link_column else None
            if target is not None:
                cited.add(str(target))
            text = "" if value is None else (shorten(value) if isinstance(value, URIRef) else str(value))
            definition = None
            if column.startswith("measure") and column.endswith("label") and text:
                # Plain words in the cell; the measure's precise wording one click away.
                definition, text = text, plain_measure(text, row.get("subject_label") and str(row["subject_label"]))
            cells.append({
                "text": text,
                "definition": definition if definition != text else None,
                "href": f"#{anchor(target)}" if target is not None else None,
                "numeric": isinstance(value, (int, float)) or type(value).__name__ == "Decimal",
                "wide": column == "quote",
                "label": column_words(column),
            })
        rows.append(cells)
        for column in claim_columns:
            if row.get(column) is not None:
                cited.add(str(row[column]))
    return columns, rows, cited


def _svg(figure) -> str:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "kg"  # stable ids, so the same data gives the same page
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    import matplotlib.pyplot as plt

    plt.close(figure)
    svg = buffer.getvalue()
    # matplotlib opens every link in a new window; a bar's evidence is further down this page.
    return svg[svg.index("<svg"):].replace(' target="_blank"', "")


def _wrap(label: str, width: int = 16) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width)) or label


#: Chart text size (points) and default width (inches): drawn at its natural size on a desktop and
#: scaled down to a 390 px phone's width, the text stays about 11 px high.
CHART_FONT_POINTS = 12
CHART_WIDTH_INCHES = 5.0


def _figure(width=CHART_WIDTH_INCHES, height=3.4):
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "path"  # text as shapes: no fonts needed, nothing to inject
    matplotlib.rcParams["font.size"] = CHART_FONT_POINTS
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _link(bars, claims) -> None:
    """Make each bar a link to its claim's evidence in the page (an SVG <a>; a claim of None: no link)."""
    for bar, claim in zip(bars, claims):
        if claim is not None:
            bar.set_url(f"#{anchor(claim)}")


def chart_periods(result: QueryResult) -> tuple[str, str] | None:
    """Figures of two periods, with the first period's annualised pace marked."""
    if not result.rows:
        return None
    row = result.rows[0]
    figure, axes = _figure()
    labels = [f"{row['period_a_label']}\n({row['days_a']} days)", f"{row['period_a_label']}\nannualised pace",
              f"{row['period_b_label']}\n({row['days_b']} days)"]
    values = [float(row["value_a"]), float(row["annualised_a"]), float(row["value_b"])]
    bars = axes.bar(labels, values, color=["#3b6ea5", "#ffffff", "#9c9c9c"], edgecolor=["#3b6ea5", "#3b6ea5", "#6b6b6b"],
                    hatch=["", "//", ""], linewidth=1.5)
    _link(bars, [row.get("claim_a"), row.get("claim_a"), row.get("claim_b")])
    axes.bar_label(bars, labels=[f"{v:g}" for v in values])
    axes.set_ylabel(_wrap(plain_measure(str(row["measure_label"]), row.get("subject_label") and str(row["subject_label"])), 28))
    axes.spines[["top", "right"]].set_visible(False)
    caption = (f"{row['value_a']} in {row['period_a_label']} ({row['days_a']} days) against {row['value_b']} in "
               f"{row['period_b_label']} ({row['days_b']} days): the periods differ in length, so the first is also "
               f"shown annualised ({row['annualised_a']}, hatched), {row['annualised_ratio']} times the second.")
    return _svg(figure), caption


def chart_places(result: QueryResult) -> tuple[str, str] | None:
    """Two places side by side for each measure, as grouped bars."""
    if not result.rows:
        return None
    figure, axes = _figure()
    measures = [str(r["measure_label"]) for r in result.rows]
    positions = range(len(measures))
    width = 0.38
    a = axes.bar([p - width / 2 for p in positions], [float(r["value_a"]) for r in result.rows], width,
                 label=str(result.rows[0]["place_a_label"]), color="#3b6ea5")
    b = axes.bar([p + width / 2 for p in positions], [float(r["value_b"]) for r in result.rows], width,
                 label=str(result.rows[0]["place_b_label"]), color="#d08c2f")
    _link(a, [r.get("claim_a") for r in result.rows])
    _link(b, [r.get("claim_b") for r in result.rows])
    axes.bar_label(a)
    axes.bar_label(b)
    axes.set_xticks(list(positions), [_wrap(m.replace(" of the subject actor", "")) for m in measures])
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    caption = "; ".join(f"{r['measure_label']}: {r['place_a_label']} {r['value_a']} ({r['share_a_percent']} %) vs "
                        f"{r['place_b_label']} {r['value_b']} ({r['share_b_percent']} %) of {r['total']}" for r in result.rows)
    return _svg(figure), caption


def chart_totals(result: QueryResult) -> tuple[str, str] | None:
    """Each reported total next to the stacked sum of its reported parts."""
    if not result.rows:
        return None
    totals: dict[str, dict] = {}
    for row in result.rows:
        entry = totals.setdefault(str(row["total_claim"]), {"label": str(row["measure_label"]), "total": float(row["total"]),
                                                            "claim": row["total_claim"], "parts": []})
        entry["parts"].append((str(row["part_place_label"]), float(row["part_value"]), row.get("part_claim")))
    figure, axes = _figure()
    colours = ["#3b6ea5", "#d08c2f", "#5a9e6f", "#9c5fa6"]
    for index, entry in enumerate(totals.values()):
        total = axes.bar(index - 0.2, entry["total"], 0.38, color="#9c9c9c", label="reported total" if index == 0 else None)
        _link(total, [entry["claim"]])
        bottom = 0.0
        for part_index, (place, value, claim) in enumerate(sorted(entry["parts"], key=lambda part: part[:2])):
            part = axes.bar(index + 0.2, value, 0.38, bottom=bottom, color=colours[part_index % len(colours)],
                            label=f"part: {place}" if index == 0 else None)
            _link(part, [claim])
            bottom += value
        axes.text(index + 0.2, bottom, f"{bottom:g}", ha="center", va="bottom")
        axes.text(index - 0.2, entry["total"], f"{entry['total']:g}", ha="center", va="bottom")
    axes.set_xticks(range(len(totals)), [_wrap(e["label"].replace(" of the subject actor", "")) for e in totals.values()])
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    verdicts = sorted({str(r["verdict"]) for r in result.rows})
    caption = f"Each reported total (grey) beside the sum of its reported parts (stacked): {', '.join(verdicts)}."
    return _svg(figure), caption


def chart_territory(result: QueryResult) -> tuple[str, str] | None:
    """Shares of territory by place; approximate figures hatched and marked with ≈."""
    if not result.rows:
        return None
    figure, axes = _figure(height=3.2)
    labels = [str(r["place_label"]) for r in result.rows]
    values = [float(r["value"]) for r in result.rows]
    approximate = [str(r["qualifier"]) != "exact" for r in result.rows]
    bars = axes.bar(labels, values, color=["#ffffff" if a else "#3b6ea5" for a in approximate], edgecolor="#3b6ea5",
                    hatch=["//" if a else "" for a in approximate], linewidth=1.5)
    _link(bars, [r.get("claim") for r in result.rows])
    axes.bar_label(bars, labels=[("≈ " if a else "") + f"{v:g} %" for v, a in zip(values, approximate)])
    axes.set_ylim(0, 100)
    axes.set_ylabel("percent of the territory")
    axes.spines[["top", "right"]].set_visible(False)
    caption = "; ".join(f"{r['place_label']}: {r['phrase']} ({r['qualifier']})" for r in result.rows)
    return _svg(figure), caption


def chart_corroboration(result: QueryResult) -> tuple[str, str] | None:
    """Each figure's sources beside its independent origins: ten outlets relaying one statement are one origin."""
    if not result.rows:
        return None
    rows = result.rows[:12]
    figure, axes = _figure(width=3.2, height=1.1 * len(rows) + 1.2)  # its labels widen it by about 2 in
    labels = [_wrap(f"{r['value']} {str(r['measure_label']).replace(' the subject actor', '')}, {r['period_label']}, "
                    f"{r['place_label']}", 22) for r in rows]
    positions = range(len(rows))
    sources = axes.barh([p + 0.2 for p in positions], [int(r["reporting_sources"]) for r in rows], 0.38, color="#9c9c9c",
                        label="sources reporting it")
    origins = axes.barh([p - 0.2 for p in positions], [int(r["independent_origins"]) for r in rows], 0.38,
                        color="#3b6ea5", label="independent origins")
    axes.bar_label(sources)
    axes.bar_label(origins)
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    caption = "; ".join(f"{r['value']} ({r['measure_label']}, {r['period_label']}): {r['reporting_sources']} source(s), "
                        f"{r['independent_origins']} independent origin(s)" for r in rows)
    return _svg(figure), caption


CHARTS = {"periods": chart_periods, "places": chart_places, "totals": chart_totals, "territory": chart_territory,
          "corroboration": chart_corroboration}


def _versions() -> dict[str, str]:
    found = {}
    for package in ("kg", "rdflib", "pyshacl", "pyoxigraph", "matplotlib"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def build_report(store, *, now: datetime | None = None) -> str:
    """The report of a store (embedded or remote), as one HTML page.

    >>> from kg import FactStore
    >>> store = FactStore.in_memory(); _ = store.load()
    >>> page = build_report(store)
    >>> "153" in page and 'href="#ev-newsweek-isis-attacks-2024-attacks-2024-h1"' in page
    True
    """
    catalogue = load_catalogue()
    engine = store.engine
    sections = []
    cited: set[str] = set()
    for name in SECTIONS:
        query = catalogue[name]
        chart = query.chart
        result = run_query(query, engine=engine)
        if name == "disagreements":
            # Where the sources disagree: a section per kind of difference, each with both sides' words.
            for kind, question in DISAGREEMENT_KINDS:
                part = QueryResult(query, result.sparql, result.variables,
                                   [t for t, r in zip(result.terms, result.rows) if r["difference"] == kind])
                columns, rows, claims = _cells(part)
                cited |= claims
                sections.append(Section(name=f"disagreements-{kind.replace(' ', '-')}", question=question,
                                        description=query.description, columns=[column_words(c) for c in columns],
                                        rows=rows))
            continue
        columns, rows, claims = _cells(result)
        cited |= claims
        section = Section(name=name, question=query.summary, description=query.description,
                          columns=[column_words(c) for c in columns], rows=rows)
        if chart is not None:
            drawn = CHARTS[chart](result)
            if drawn is not None:
                section.chart_svg, section.chart_caption = drawn
        sections.append(section)
    evidence = []
    for row in run_query(catalogue["evidence"], engine=engine).rows:
        if str(row["claim"]) not in cited:
            continue
        chain = run_query(catalogue["reporting-chain"], engine=engine, params={"claim": f"<{row['claim']}>"}).rows
        evidence.append({**row, "id": anchor(row["claim"]), "iri": str(row["claim"]),
                         "source": str(row["source"]), "chain": chain})
    validation = store.validate()
    environment = Environment(loader=PackageLoader("kg.views", "templates"), autoescape=select_autoescape(default=True))
    template = environment.get_template("report.html")
    return template.render(
        sections=sections,
        evidence=evidence,
        validation=validation,
        graphs=store.graphs(),
        versions=_versions(),
        generated=(now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"),
        wide=WIDE_TABLE_COLUMNS,
    )


def write_report(store, out: str | Path) -> Path:
    """Write the report to a file (atomically, see :mod:`kg.model.atomicfile`)."""
    out = Path(out)
    page = build_report(store)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, page)
    return out
