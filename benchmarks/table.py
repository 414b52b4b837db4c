"""Render the latest benchmark results (benchmarks/results/*.json) as the README's Markdown table.

    python benchmarks/table.py            # print it
    python benchmarks/table.py --write    # replace the table between the README's bench markers
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kg.model.atomicfile import write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
ORDER = {"10k": 0, "100k": 1, "1m": 2, "10m": 3}


def _s(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _t(step: dict | None) -> str:
    """A step's seconds, or the limit it was stopped at ("not run" for a step this run did not have)."""
    if step is None:
        return "not run"
    if step.get("seconds") is None:
        return f"> {step['stopped_after']:.0f} (stopped)"
    return _s(step["seconds"])


def _inside(step: dict) -> str:
    """A load into a server: the seconds inside the load, or the step's limit if it was stopped."""
    return _s(step["result"]["seconds_inside"]) if step.get("result") else _t(step)


def _rss(step: dict | None) -> str:
    return f"{step['rss_mb']:.0f}" if step and step.get("rss_mb") is not None else "—"


def render() -> str:
    """The README's table of every recorded run, smallest first."""
    return render_records([json.loads(p.read_text()) for p in RESULTS.glob("*.json")])


def render_records(records: list[dict]) -> str:
    records = sorted(records, key=lambda r: ORDER.get(r["scale"], 9))
    lines = []
    for record in records:
        r, m = record["results"], record["machine"]
        commits = sorted({step["commit"] for step in r.values() if step.get("commit")})
        code = f" kg at commit {', '.join(commits)}." if commits else ""
        triples = f"{record['triples']:,}" if record.get("triples") else "? (the first load was stopped)"
        lines.append(f"**{record['scale']}** — {triples} triples, {record['sources']} synthetic sources; "
                     f"{m['cpus']} CPUs, {m['platform']}, Python {m['python']}; {record['when']}.{code}\n")
        lines.append("| step | kg | raw Oxigraph | rdflib / pySHACL | peak memory kg (MB) |")
        lines.append("|---|---:|---:|---:|---:|")
        lines.append(f"| first load, validation included (s) | {_t(r['kg_load'])} | — | "
                     f"{_t(r['naive_pipeline'])} (parse + pySHACL + Oxigraph load) | {_rss(r['kg_load'])} |")
        lines.append(f"| reload of the unchanged corpus into the store that holds it (s) | "
                     f"{_t(r.get('kg_reload_unchanged'))} | {_t(r['raw_bulk_load'])} (bulk_load) | "
                     f"{_t(r['rdflib_parse'])} (parse only) | {_rss(r.get('kg_reload_unchanged'))} |")
        if "kg_load_cached" in r:  # runs before reloads were measured: the validation cache they had
            lines.append(f"| load of an already-validated corpus into a new store, cache hit (s) | "
                         f"{_t(r['kg_load_cached'])} | {_t(r['raw_bulk_load'])} (bulk_load) | — | {_rss(r['kg_load_cached'])} |")
        lines.append(f"| reload with one source corrected (s) | {_t(r.get('kg_reload_one_changed'))} | — | "
                     f"{_t(r.get('kg_add_replace'))} (`kg add --replace` of it) | {_rss(r.get('kg_reload_one_changed'))} |")
        lines.append(f"| full validation (s) | {_t(r['kg_validate'])} | — | {_t(r['pyshacl_validate'])} | "
                     f"{_rss(r['kg_validate'])} |")
        lines.append(f"| `kg add` of ~100 claims vs full re-validation (s) | {_t(r['kg_add'])} | — | "
                     f"{_t(r['full_revalidation'])} (kg's full validation) | {_rss(r['kg_add'])} |")
        lines.append(f"| load into `oxigraph serve` (s) | {_inside(r['remote_kg'])} | "
                     f"{_inside(r['remote_raw'])} (raw HTTP PUT) | — | {_rss(r['remote_kg'])} |")
        for name in sorted(r["queries_kg"]["result"] or {}):
            kg = r["queries_kg"]["result"][name]
            # raw Oxigraph timed interleaved with kg where the run did so (see bench.py), else its own step
            raw = kg.get("oxigraph_seconds") or ((r["queries_oxigraph"]["result"] or {}).get(name) or {}).get("seconds")
            # A run that timed first pages only (KG_BENCH_FIRST_PAGES, at 10 M) shows those.
            shown = _s(kg["seconds"]) if "seconds" in kg else f"{_s(kg['first_page_seconds'])} (first page)"
            lines.append(f"| query `{name}` (s, median) | {shown} | {_s(raw) if raw else 'not run'} | "
                         f"{_t((r['queries_rdflib']['result'] or {}).get(name))} | |")
        servers = (r.get("queries_on_servers") or {}).get("result")
        if servers:
            lines.append("")
            lines.append("| query on a server (s, median) | Virtuoso 7.2 | oxigraph serve | Virtuoso / Oxigraph |")
            lines.append("|---|---:|---:|---:|")
            for name in sorted(servers):
                q = servers[name]
                shown = f"{'> ' if q['virtuoso_stopped'] else ''}{_s(q['virtuoso_seconds'])}"
                lines.append(f"| `{name}` | {shown} | {_s(q['oxigraph_seconds'])} | "
                             f"{q['virtuoso_seconds'] / max(q['oxigraph_seconds'], 1e-9):.1f} |")
        lines.append("")
        for t in record["targets"]:
            sign = "≥" if t["higher_is_better"] else "≤"
            bound = t.get("bound") or ("at least" if t.get("lower_bound") else "")  # older records: lower bounds only
            shown = f"{bound + ' ' if bound else ''}{t['measured']:.2f}"
            detail = f" — {t['detail']}" if t.get("detail") else ""
            verdict = {True: "met", False: "MISSED", None: "UNDECIDED"}[t["met"]]
            lines.append(f"- `TARGET {t['name']}: {verdict} ({shown} vs {sign} {t['goal']})`{detail}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    table = render()
    if not args.write:
        print(table, end="")
        return
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    write_text(readme, f"{head}{START}\n{table}{END}{tail}")


if __name__ == "__main__":
    main()
