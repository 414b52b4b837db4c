"""The benchmark's bookkeeping (not its timings): targets from a run's steps, stopped baselines as lower bounds."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recorded():
    """The steps of the committed 10k run."""
    return json.loads((ROOT / "benchmarks" / "results" / "10k.json").read_text())["results"]


def test_targets_are_recomputed_from_the_recorded_steps(recorded, capsys):
    bench = _module("bench")
    targets = {t["name"]: t for t in bench.targets_of(recorded)}
    assert set(targets) == {
        "first-load-vs-naive-pipeline", "each-query-vs-raw-oxigraph", "each-query-vs-rdflib", "lookups-under-100ms",
        "first-page-under-1s", "add-100-claims-vs-full-revalidation", "full-validation-vs-pyshacl",
        "remote-load-vs-raw-put", "reload-unchanged-vs-bulk-load", "reload-one-changed-vs-add", "peak-memory-mb",
        "virtuoso-vs-oxigraph-serve"}
    # kg and raw Oxigraph timed interleaved in kg's own step: the ratio is theirs, not the other step's.
    kg = recorded["queries_kg"]["result"]
    worst = max(kg, key=lambda n: kg[n]["seconds"] / kg[n]["oxigraph_seconds"])
    assert targets["each-query-vs-raw-oxigraph"]["measured"] == pytest.approx(
        kg[worst]["seconds"] / kg[worst]["oxigraph_seconds"])
    assert "timed interleaved" in targets["each-query-vs-raw-oxigraph"]["detail"]
    printed = capsys.readouterr().out
    assert all(f"TARGET {name}: {'met' if t['met'] else 'MISSED'}" in printed for name, t in targets.items())
    kg, naive = recorded["kg_load"]["seconds"], recorded["naive_pipeline"]["seconds"]
    assert targets["first-load-vs-naive-pipeline"]["measured"] == pytest.approx(naive / kg)
    assert not any(t["lower_bound"] for t in targets.values())


def test_a_baseline_stopped_at_its_limit_gives_a_lower_bound(recorded, capsys):
    bench, table = _module("bench"), _module("table")
    results = copy.deepcopy(recorded)
    results["pyshacl_validate"] = {"seconds": None, "stopped_after": 600.0, "rss_mb": None, "result": None}
    results["full_revalidation"] = {"seconds": None, "stopped_after": 120.0, "rss_mb": None, "result": None}
    slowest = max(results["queries_kg"]["result"], key=lambda n: results["queries_kg"]["result"][n]["seconds"])
    results["queries_rdflib"]["result"][slowest] = {"seconds": None, "stopped_after": 300.0, "rows": None}
    targets = {t["name"]: t for t in bench.targets_of(results)}
    validation = targets["full-validation-vs-pyshacl"]
    assert validation["lower_bound"] and validation["measured"] == pytest.approx(600.0 / results["kg_validate"]["seconds"])
    assert "not compared" in validation["detail"]
    add = targets["add-100-claims-vs-full-revalidation"]  # stopped at 120 s: a lower bound on the ratio
    assert add["measured"] == pytest.approx(120.0 / results["kg_add"]["seconds"]) and add["bound"] == "at least"
    assert "at least" in capsys.readouterr().out
    assert table._t(results["pyshacl_validate"]) == "> 600 (stopped)"
    assert table._t(results["kg_validate"]) == table._s(results["kg_validate"]["seconds"])


@pytest.mark.parametrize("stopped", [
    pytest.param("queries_rdflib", id="rdflib-query-step-stopped-whole"),
    pytest.param("queries_oxigraph", id="raw-oxigraph-query-step-stopped-whole"),
    pytest.param("queries_kg", id="kg-query-step-stopped-whole"),
])
def test_a_query_step_stopped_whole_is_a_lower_bound_or_not_measured_never_a_traceback(recorded, capsys, stopped):
    """As in `make bench SCALE=100k LIMIT=120`, where the rdflib query step is stopped before it reports."""
    bench = _module("bench")
    results = copy.deepcopy(recorded)
    results[stopped] = {"seconds": None, "stopped_after": 120.0, "rss_mb": None, "result": None}
    targets = {t["name"]: t for t in bench.targets_of(results)}
    bench.print_query_table(results)
    printed = capsys.readouterr().out
    assert f"({stopped} was stopped whole after 120 s" in printed
    if stopped == "queries_kg":
        assert "each-query-vs-rdflib" not in targets and "not measured" in printed
    else:
        name = "each-query-vs-rdflib" if stopped == "queries_rdflib" else "each-query-vs-raw-oxigraph"
        assert targets[name]["lower_bound"] and "stopped whole" in targets[name]["detail"]
        total = sum(q["seconds"] for q in results["queries_kg"]["result"].values())
        expected = 120.0 / total if stopped == "queries_rdflib" else total / 120.0
        assert targets[name]["measured"] == pytest.approx(expected)


@pytest.mark.parametrize("load, reload, met", [
    pytest.param({"seconds": 1500.0}, {"seconds": 20.0}, (True, True), id="within-both"),
    pytest.param({"seconds": 2000.0}, {"seconds": 75.0}, (False, False), id="over-both"),
    pytest.param({"seconds": None, "stopped_after": 1200.0}, {"seconds": 20.0}, (None, True),
                 id="first-load-stopped-before-the-goal-is-undecided"),
    pytest.param({"seconds": None, "stopped_after": 2400.0}, {"seconds": 20.0}, (False, True),
                 id="first-load-stopped-after-the-goal-is-missed"),
])
def test_the_ten_million_targets_are_absolute_and_a_stopped_load_never_meets_them(recorded, load, reload, met):
    bench = _module("bench")
    results = copy.deepcopy(recorded)
    results["kg_load"] = {**results["kg_load"], "rss_mb": 3000.0, **load}
    results["kg_reload_unchanged"] = {**results["kg_reload_unchanged"], **reload}
    targets = {t["name"]: t for t in bench.targets_of(results, scale="10m")}
    assert (targets["first-load-under-30-min"]["met"], targets["reload-unchanged-under-1-min"]["met"]) == met
    assert targets["first-load-under-30-min"]["bound"] == ("at least" if load["seconds"] is None else None)
    assert targets["peak-memory-mb"]["goal"] == 8192 and targets["peak-memory-mb"]["met"]
    smaller = {t["name"]: t for t in bench.targets_of(results, scale="1m")}
    assert "first-load-under-30-min" not in smaller and smaller["peak-memory-mb"]["goal"] == 2048
    assert not smaller["peak-memory-mb"]["met"]


def test_a_baseline_stopped_before_the_goal_leaves_the_target_undecided_not_missed(recorded, capsys):
    """At 10 M the naive pipeline is stopped after minutes: a lower bound under the goal decides nothing."""
    bench, table = _module("bench"), _module("table")
    results = copy.deepcopy(recorded)
    results["naive_pipeline"] = {"seconds": None, "stopped_after": results["kg_load"]["seconds"] * 2, "rss_mb": None,
                                 "result": None}
    targets = {t["name"]: t for t in bench.targets_of(results)}
    assert targets["first-load-vs-naive-pipeline"]["met"] is None
    assert "TARGET first-load-vs-naive-pipeline: UNDECIDED (at least 2.00 vs ≥ 3)" in capsys.readouterr().out
    record = {"scale": "10k", "triples": 1, "sources": 1, "when": "now", "results": results,
              "machine": {"cpus": 2, "platform": "p", "python": "3"}, "targets": list(targets.values())}
    assert "UNDECIDED (at least 2.00" in table.render_records([record])


def test_a_query_step_of_the_lookups_alone_does_not_judge_every_listings_first_page(recorded, capsys):
    bench = _module("bench")
    results = copy.deepcopy(recorded)
    lookups = {name: results["queries_kg"]["result"][name] for name in bench.LOOKUPS}
    results["queries_kg"] = {**results["queries_kg"], "result": lookups, "only_queries": list(lookups)}
    targets = {t["name"]: t for t in bench.targets_of(results, scale="10m")}
    assert "first-page-under-1s" not in targets and "lookups-under-100ms" in targets
    assert "first-page-under-1s: not measured (only claims-by-actor" in capsys.readouterr().out


def test_a_long_list_of_problems_is_recorded_as_its_count_and_digest_and_still_compares():
    bench = _module("bench")
    many = [["Warning", f"claim-{n}", "kgsh:S", "m"] for n in range(bench.PROBLEMS_LISTED + 1)]
    a, b = bench.compact({"conforms": True, "problems": many}), bench.compact({"conforms": True, "problems": list(many)})
    changed = bench.compact({"conforms": True, "problems": many[:-1] + [["Warning", "other", "kgsh:S", "m"]]})
    assert a["problems"]["count"] == len(many) and a == b and a != changed
    assert "same verdict: True" == bench._verdict({"result": a}, {"result": b}, "conforms", "problems")
    few = {"conforms": True, "problems": many[:3]}
    assert bench.compact(few) == few
