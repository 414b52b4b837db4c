"""The README is the front door: its commands and numbers must stay true."""

from __future__ import annotations

import re

from kg.cli.commands import main
from kg.queries.catalogue import load_catalogue

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_screen_gives_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:25])
    assert "make demo" in first_screen and "make test" in first_screen


def test_every_stored_query_is_in_the_readme_and_every_named_one_exists():
    catalogue = load_catalogue()
    named = set(re.findall(r"kg query ([a-z-]+)", README)) | set(re.findall(r"`([a-z]+(?:-[a-z]+)+)`", README))
    for name in catalogue:
        assert f"`{name}`" in README, f"{name} is not in the README's table"
    stored_like = {n for n in named if n in catalogue or re.fullmatch(r"(compare|claims|totals|figures|reporting)-[a-z-]+", n)}
    assert stored_like <= set(catalogue)


def test_every_kg_command_the_readme_uses_exists():
    used = set(re.findall(r"^kg ([a-z-]+)", README, flags=re.M))
    assert used and used <= set(main.commands), used - set(main.commands)


def test_the_diagram_offsets_are_the_real_ones(facts_graph):
    from kg.model.namespaces import OA

    start, end = map(int, re.search(r"oa:start (\d+) ; oa:end (\d+)", README).groups())
    starts = {o.toPython() for o in facts_graph.objects(None, OA.start)}
    ends = {o.toPython() for o in facts_graph.objects(None, OA.end)}
    assert start in starts and end in ends


def test_the_answers_table_matches_the_queries(loaded_store):
    from kg.queries.catalogue import run_query

    row = run_query("compare-periods", store=loaded_store).rows[0]
    assert f"{row['value_a']} vs {row['value_b']} (ratio {row['ratio']})" in README
    assert f"= {row['annualised_ratio']}" in README


def test_the_benchmark_table_is_the_latest_results():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "benchmarks" / "table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    shown = README.split(table.START, 1)[1].split(table.END, 1)[0]
    assert shown.strip() == table.render().strip(), "run: python benchmarks/table.py --write"
    assert "TARGET" in shown
