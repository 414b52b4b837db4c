"""What people look at: the HTML report (opened in headless Chromium), the ontology docs and
the Graphviz pictures, with their numbers checked against the stored queries."""

from __future__ import annotations

import html
import re
import shutil
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from kg.cli.commands import main
from kg.model.resources import default_load_paths
from kg.queries.catalogue import run_query
from kg.stores.oxigraph import FactStore
from kg.views.report import anchor, build_report

from conftest import FIXTURES, ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Links(HTMLParser):
    """Collects ids, in-page links, scripts and img elements."""

    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.scripts, self.images, self.svgs = set(), [], 0, 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.hrefs.append(attrs["href"][1:])
        self.scripts += tag == "script"
        self.images += tag == "img"
        self.svgs += tag == "svg"


@pytest.fixture(scope="module")
def page(loaded_store) -> str:
    return build_report(loaded_store)


@pytest.fixture(scope="module")
def multi_page() -> str:
    """The report of the real facts with the FICTIONAL multi-source fixtures: every kind of difference."""
    store = FactStore.in_memory()
    store.load([*default_load_paths(), *sorted((FIXTURES / "multi").glob("*.ttl"))])
    return build_report(store)


def test_where_the_sources_disagree_each_kind_with_both_sides_sources_by_title(multi_page):
    for kind in ("value-conflict", "relay-variation", "self-contradiction", "attribution-conflict"):
        assert f'id="disagreements-{kind}"' in multi_page
    relay = multi_page[multi_page.index('id="disagreements-relay-variation"'):]
    relay = relay[: relay.index("</section>")]
    assert ">212<" in relay and ">215<" in relay
    assert "Fictional Courier: Northern Front attacks might double (a fictional example)" in relay
    assert "Fictional Gazette: Northern Front attacks surge in the marches (a fictional example)" in relay
    assert "https://w3id.org/conflict-kg/id/source/" not in relay  # sources by title, never by IRI
    attribution = multi_page[multi_page.index('id="disagreements-attribution-conflict"'):]
    assert "a defense official (unnamed, Fictional Tribune)" in attribution[: attribution.index("</section>")]
    dates = multi_page[multi_page.index('id="date-conflicts"'):]
    assert "on Monday" in dates[: dates.index("</section>")] and "on Wednesday" in dates[: dates.index("</section>")]
    assert 'id="wording-variants"' in multi_page
    corroboration = multi_page[multi_page.index('id="corroboration"'):]
    corroboration = corroboration[: corroboration.index("</section>")]
    assert '<th scope="col">reporting sources</th>' in corroboration and '<th scope="col">independent origins</th>' in corroboration
    assert "<svg" in corroboration  # the chart: figures by number of independent origins


def test_sources_by_title_with_their_date_notes_and_columns_and_measures_in_words(multi_page):
    sources = multi_page[multi_page.index('<section id="sources">'):]
    sources = sources[: sources.index("</section>")]
    assert "Fictional Wire: Northern Front attacks on track to double (a fictional example)" in sources
    assert "Dated in its first line: July 17, 2024." in sources and "The text carries no date of its own." in sources
    assert "from the publisher&#39;s metadata" in sources and ">40<" in sources  # how the date is known; claims
    visible = re.sub(r"<[^>]+>", " ", multi_page)
    assert "https://w3id.org/conflict-kg/id/source/" not in visible  # sources by title, never by IRI
    headers = re.findall(r'<th scope="col">([^<]*)</th>', multi_page)
    assert {"first period", "second value", "first claimant", "days in the first period"} <= set(headers)
    assert not [h for h in headers if "_" in h or h.endswith(" label") or h.endswith(" title")]
    # A measure in plain words, its precise wording one click away.
    assert ('<details class="measure"><summary>attacks ISIS claimed responsibility for</summary>'
            "attacks the subject actor claimed responsibility for</details>") in multi_page


def test_every_warning_is_listed_not_only_counted(multi_page):
    listed = multi_page[multi_page.index('id="warnings"'):]
    listed = listed[: listed.index("</details>")]
    assert listed.count("<li>") == 4  # two relay variations, two attribution conflicts (info), each side
    assert "kgsh:RelayVariationShape" in listed and "kgsh:AttributionConflictShape" in listed


@pytest.fixture(scope="module")
def hostile_page() -> str:
    store = FactStore.in_memory()
    store.load([*default_load_paths(), FIXTURES / "hostile-labels.ttl"])
    return build_report(store)


def test_every_evidence_link_resolves_inside_the_page(page):
    links = Links()
    links.feed(page)
    assert len(links.hrefs) > 40
    assert set(links.hrefs) <= links.ids, set(links.hrefs) - links.ids


def test_the_report_is_self_contained(page):
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    links = Links()
    links.feed(page)
    assert links.scripts == 0 and links.svgs >= 4


def test_the_reports_numbers_are_the_queries_answers(page, loaded_store):
    row = run_query("compare-periods", store=loaded_store).rows[0]
    for value in (row["value_a"], row["value_b"], row["ratio"], row["annualised_a"], row["annualised_ratio"]):
        assert f">{value}<" in page
    assert "the periods differ in length" in page
    for r in run_query("compare-places", store=loaded_store).rows:
        for value in (r["value_a"], r["value_b"], r["share_a_percent"], r["share_b_percent"], r["total"]):
            assert f">{value}<" in page
    assert page.count(">consistent<") == 6
    assert "around one-third (approximate)" in page and "40 percent (exact)" in page
    claim = "https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1"
    assert f'<a href="#{anchor(claim)}">153</a>' in page
    entry = page[page.index(f'id="{anchor(claim)}"'):]
    entry = entry[: entry.index("</article>")]
    assert "US Central Command (CENTCOM)" in entry and "Associated Press (AP)" in entry and "Newsweek" in entry
    assert "<mark>In the first half of 2024, ISIS claimed responsibility for 153 attacks" in entry
    assert "Validation conforms: 0 violations" in page


def test_text_from_the_facts_is_escaped(hostile_page):
    assert "<script" not in hostile_page
    assert "<img" not in hostile_page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in hostile_page or "&lt;script&gt;alert" in hostile_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile_page
    links = Links()
    links.feed(hostile_page)
    assert links.scripts == 0 and links.images == 0


def test_report_cli_writes_the_file(tmp_path):
    store = tmp_path / "s"
    CliRunner().invoke(main, ["load", "--store", str(store)])
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--store", str(store), "--out", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
@pytest.mark.parametrize("fixture, width, name", [
    pytest.param("page", 1280, "report-desktop", id="desktop"),
    pytest.param("page", 390, "report-phone", id="phone"),
    pytest.param("hostile_page", 1280, "report-hostile", id="hostile-labels"),
    pytest.param("multi_page", 1280, "report-several-sources", id="several-sources"),
])
def test_the_report_in_headless_chromium(request, tmp_path, fixture, width, name):
    from playwright.sync_api import sync_playwright

    html = request.getfixturevalue(fixture)
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    errors, dialogs = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        try:
            tab = browser.new_page(viewport={"width": width, "height": 900})
            tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            tab.goto(path.as_uri())
            tab.wait_for_load_state("load")
            charts = tab.locator("figure.chart svg")
            assert charts.count() >= 4
            for index in range(charts.count()):
                chart = charts.nth(index)
                chart.scroll_into_view_if_needed()
                assert chart.is_visible()
                box = chart.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 100 and box["width"] <= width
            # Nothing overflows sideways: tables wrap, wide ones (and all on a phone) one record per row.
            assert tab.evaluate("document.documentElement.scrollWidth") <= width
            overflowing = tab.evaluate("""() => [...document.querySelectorAll('table')]
                .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1 || t.getBoundingClientRect().right > innerWidth + 1)
                .map(t => t.closest('section').id)""")
            assert overflowing == []
            # Chart text legible: every line of it at least 8.5 px high on the screen (about an 11 px font).
            heights = tab.evaluate("""() => [...document.querySelectorAll('figure.chart svg g[id^="text_"]')]
                .filter(g => g.querySelector('use, path')).map(g => g.getBoundingClientRect().height).filter(h => h > 0)""")
            assert heights and min(heights) >= 8.5, min(heights)
            # Chart bars link to their evidence.
            bars = tab.locator("figure.chart svg a")
            assert bars.count() >= 8
            target = bars.first.get_attribute("xlink:href") or bars.first.get_attribute("href")
            bars.first.scroll_into_view_if_needed()
            bars.first.click()
            assert tab.evaluate("location.hash") == target and tab.locator(target).is_visible()
            links = tab.locator("a[href^='#ev-']")
            assert links.count() > 20
            first = links.first.get_attribute("href")
            links.first.click()
            assert tab.evaluate("location.hash") == first
            assert tab.locator(f"{first}").is_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            tab.goto(path.as_uri())
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert dialogs == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (.ci/run installs it: apt-get install graphviz)")
@pytest.mark.parametrize("args, expected", [
    pytest.param(["--claim", "https://w3id.org/conflict-kg/id/claim/newsweek-isis-attacks-2024/attacks-2024-h1"],
                 ["US Central Command (CENTCOM)", "Associated Press (AP)", "Newsweek", "first half of 2024", "153"], id="claim"),
    pytest.param(["--source", "https://w3id.org/conflict-kg/id/source/newsweek-isis-attacks-2024"],
                 ["Iraqi officials", "Tom Wilson"], id="source"),
    pytest.param([], ["source:newsweek-isis-attacks-2024", "reported figure", "17"], id="overview"),
])
def test_graph_draws_svg(tmp_path, args, expected):
    store = tmp_path / "s"
    CliRunner().invoke(main, ["load", "--store", str(store)])
    out = tmp_path / "g.svg"
    result = CliRunner().invoke(main, ["graph", *args, "--out", str(out), "--store", str(store)])
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    shown = html.unescape(svg)  # Graphviz writes '-' as &#45;
    for text in expected:
        assert text in shown, text


def test_graph_of_an_unknown_claim_is_explained(tmp_path):
    store = tmp_path / "s"
    CliRunner().invoke(main, ["load", "--store", str(store)])
    result = CliRunner().invoke(main, ["graph", "--claim", "https://example.org/nothing", "--store", str(store)])
    assert result.exit_code == 2 and "No claim" in result.output


def test_docs_document_every_term_and_its_shapes(tmp_path, ontology_graph):
    from rdflib import OWL, RDF, RDFS

    result = CliRunner().invoke(main, ["docs", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "index.html").read_text()
    shapes = (tmp_path / "shapes.html").read_text()
    assert 'href="shapes.html"' in index
    for term in ontology_graph.subjects(RDF.type, OWL.Class):
        if str(term).startswith("https://w3id.org/conflict-kg/ontology#"):
            label = str(ontology_graph.value(term, RDFS.label))
            assert label in index and label in shapes
    section = shapes[shapes.index('id="claimant"'):]
    assert "kgsh:ClaimClaimantShape" in section[: section.index("</section>")]


def test_the_committed_shapes_documentation_is_up_to_date(tmp_path):
    CliRunner().invoke(main, ["docs", "--out", str(tmp_path)])
    assert (tmp_path / "shapes.html").read_text() == (ROOT / "docs" / "ontology" / "shapes.html").read_text(), \
        "regenerate it: kg docs --out docs/ontology"
    assert (ROOT / "docs" / "ontology" / "index.html").exists()


def test_presentation_comes_from_the_query_headers(loaded_store):
    """Each query's #+ evidence: names real columns, and its #+ chart: a picture the report can draw."""
    from kg.queries.catalogue import load_catalogue, run_query
    from kg.views.report import CHARTS

    declared = 0
    for name, query in load_catalogue().items():
        if query.chart is not None:
            assert query.chart in CHARTS, f"{name}: no chart {query.chart!r}"
        if query.evidence and not query.requires_one_of and not any(p.required for p in query.params):
            variables = run_query(query, store=loaded_store).variables
            for value, claim in query.evidence.items():
                assert value in variables and claim in variables, f"{name}: evidence {value}: {claim}"
            declared += 1
    assert declared >= 10


def test_no_view_holds_sparql():
    """Every query the views run lives in queries/ (the pictures' in queries/pictures/)."""
    import ast
    import re
    from pathlib import Path

    import kg.views

    for path in Path(kg.views.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not re.search(r"\bSELECT\b[\s\S]*\bWHERE\b", node.value), f"{path.name} holds SPARQL"
