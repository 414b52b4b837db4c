"""kg's benchmarks: every figure side by side with raw Oxigraph and rdflib, in the same run.

    python benchmarks/bench.py --scale 10k|100k|1m      (or: make bench SCALE=10k)

Each measurement runs in a fresh subprocess, so its time and its peak memory (RSS) are its
own. The table is printed, the raw numbers are written to benchmarks/results/, and each
target is printed as ``TARGET <name>: met|MISSED (<measured ratio> vs <goal>)``. These are
measurements, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TRIPLES_PER_SOURCE = 257
FIXED_TRIPLES = 5_000  # ontology, reference data and synthetic reference data


# --- measurements, each run in its own process ------------------------------------------------


def _corpus_files(corpus: Path) -> list[Path]:
    return [ROOT / "ontology" / "kg.ttl", ROOT / "facts" / "reference.ttl", *sorted((corpus / "facts").glob("*.ttl"))]


def _graph_of(path: Path) -> str:
    from kg.rdffiles import read_facts_file

    return str(read_facts_file(path).graph_iri)


def m_kg_load(corpus: Path, work: Path) -> dict:
    from kg.store import FactStore

    with FactStore(work / "store") as store:
        report = store.load(_corpus_files(corpus))
        return {"triples": report.triples, "conforms": report.conforms, "cached": report.cached}


def m_kg_load_cached(corpus: Path, work: Path) -> dict:
    return m_kg_load(corpus, work)


def m_raw_bulk_load(corpus: Path, work: Path) -> dict:
    import pyoxigraph as ox

    graphs = json.loads((work / "graphs.json").read_text())
    store = ox.Store(str(work / "raw-store"))
    for path in _corpus_files(corpus):
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graphs[str(path)]),
                        base_iri=path.resolve().as_uri())
    return {"triples": len(store)}


def m_rdflib_parse(corpus: Path, work: Path) -> dict:
    from rdflib import Dataset

    dataset = Dataset()
    graphs = json.loads((work / "graphs.json").read_text())
    for path in _corpus_files(corpus):
        dataset.graph(graphs[str(path)]).parse(path, format="turtle")
    return {"triples": len(dataset)}


def m_naive_pipeline(corpus: Path, work: Path) -> dict:
    import pyoxigraph as ox
    import pyshacl
    from rdflib import Graph

    data = Graph()
    for path in _corpus_files(corpus)[1:]:
        data.parse(path, format="turtle")
    conforms, _, _ = pyshacl.validate(data, shacl_graph=Graph().parse(ROOT / "ontology" / "shapes.ttl"),
                                      ont_graph=Graph().parse(ROOT / "ontology" / "kg.ttl"), inference="none",
                                      allow_warnings=True)
    graphs = json.loads((work / "graphs.json").read_text())
    store = ox.Store(str(work / "naive-store"))
    for path in _corpus_files(corpus):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graphs[str(path)]))
    return {"conforms": bool(conforms), "triples": len(store)}


def _median(run, repeat: int) -> tuple[float, object]:
    result = run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def m_queries(corpus: Path, work: Path, engine: str) -> dict:
    from kg.queries import load_catalogue, run_query

    catalogue = load_catalogue()
    params = {"reporting-chain": {"text": "attacks"}}
    repeat = int(os.environ.get("KG_BENCH_REPEAT", "5"))
    out = {}
    if engine == "kg":
        from kg.store import FactStore

        store = FactStore(work / "store")
        for name, query in catalogue.items():
            seconds, result = _median(lambda: run_query(query, store=store, params=params.get(name)), repeat)
            out[name] = {"seconds": seconds, "rows": len(result.terms)}
    elif engine == "oxigraph":
        import pyoxigraph as ox

        store = ox.Store.read_only(str(work / "store"))
        for name, query in catalogue.items():
            sparql = query.bind(params.get(name))

            def raw():  # read every value, as a program using the answer would
                solutions = store.query(sparql, use_default_graph_as_union=True)
                variables = solutions.variables
                return [[solution[v] for v in variables] for solution in solutions]

            seconds, rows = _median(raw, repeat)
            out[name] = {"seconds": seconds, "rows": len(rows)}
    else:
        from rdflib import Dataset

        dataset = Dataset(default_union=True)
        graphs = json.loads((work / "graphs.json").read_text())
        for path in _corpus_files(corpus):
            dataset.graph(graphs[str(path)]).parse(path, format="turtle")
        rdflib_repeat = max(1, min(repeat, int(os.environ.get("KG_BENCH_RDFLIB_REPEAT", "3"))))
        for name, query in catalogue.items():
            sparql = query.bind(params.get(name))
            seconds, rows = _median(lambda: list(dataset.query(sparql)), rdflib_repeat)
            out[name] = {"seconds": seconds, "rows": len(rows)}
    return out


def m_kg_validate(corpus: Path, work: Path) -> dict:
    from kg.validate import validate

    report = validate(_corpus_files(corpus)[1:])
    return {"conforms": report.conforms, "counts": report.counts(),
            "problems": sorted([p.severity, p.focus, p.shape, p.message] for p in report.problems)}


def m_pyshacl_validate(corpus: Path, work: Path) -> dict:
    from kg.validate import validate

    report = validate(_corpus_files(corpus)[1:], engine="pyshacl")
    return {"conforms": report.conforms, "counts": report.counts(),
            "problems": sorted([p.severity, p.focus, p.shape, p.message] for p in report.problems)}


def m_kg_add(corpus: Path, work: Path) -> dict:
    from kg.incremental import check_files
    from kg.store import FactStore

    store = FactStore(work / "store")
    report = check_files(store, sorted((work / "new" / "facts").glob("synth-9-*.ttl")))
    return {"conforms": report.conforms, "problems": sorted([p.severity, p.focus, p.shape, p.message]
                                                            for p in report.validation.problems),
            "triples_read": report.triples_read}


def m_full_revalidation(corpus: Path, work: Path) -> dict:
    from kg.validate import validate

    new = sorted((work / "new" / "facts").glob("synth-9-*.ttl"))
    report = validate([*_corpus_files(corpus)[1:], *new])
    names = {str(p) for p in new}
    return {"conforms": report.conforms,
            "problems": sorted([p.severity, p.focus, p.shape, p.message] for p in report.problems if p.file in names)}


def _server(location: Path):
    oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([oxigraph, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=1).read()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("oxigraph serve did not start")


def m_remote_kg(corpus: Path, work: Path) -> dict:
    from kg.endpoint import Endpoint, RemoteStore

    process, base = _server(work / "server-kg")
    try:
        with RemoteStore(Endpoint.at(f"{base}/query", timeout=600)) as store:
            started = time.perf_counter()
            store.load(_corpus_files(corpus), check=False)
            seconds = time.perf_counter() - started
            return {"seconds_inside": seconds, "triples": sum(store.graphs().values())}
    finally:
        process.terminate()
        process.wait()


def m_remote_raw(corpus: Path, work: Path) -> dict:
    import requests

    graphs = json.loads((work / "graphs.json").read_text())
    process, base = _server(work / "server-raw")
    try:
        started = time.perf_counter()
        with requests.Session() as session:
            for path in _corpus_files(corpus):
                with open(path, "rb") as body:
                    session.put(f"{base}/store", params={"graph": graphs[str(path)]}, data=body,
                                headers={"Content-Type": "text/turtle"}, timeout=600).raise_for_status()
        return {"seconds_inside": time.perf_counter() - started}
    finally:
        process.terminate()
        process.wait()


MEASUREMENTS = {name[2:]: fn for name, fn in globals().items() if name.startswith("m_") and name != "m_queries"}


def child(name: str, corpus: Path, work: Path, engine: str | None) -> None:
    started = time.perf_counter()
    result = m_queries(corpus, work, engine) if name == "queries" else MEASUREMENTS[name](corpus, work)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "result": result}))


def measure(name: str, corpus: Path, work: Path, engine: str | None = None) -> dict:
    command = [sys.executable, __file__, "--child", name, "--corpus", str(corpus), "--work", str(work)]
    if engine:
        command += ["--engine", engine]
    output = subprocess.run(command, capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{output.stderr[-3000:]}")
    data = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"  {name + (' ' + engine if engine else ''):<28} {data['seconds']:9.2f} s  {data['rss_mb']:8.0f} MB", flush=True)
    return data


# --- the run ----------------------------------------------------------------------------------


def target(name: str, measured: float, goal: float, *, higher_is_better: bool = True, detail: str = "") -> dict:
    met = measured >= goal if higher_is_better else measured <= goal
    sign = "≥" if higher_is_better else "≤"
    print(f"TARGET {name}: {'met' if met else 'MISSED'} ({measured:.2f} vs {sign} {goal}){' — ' + detail if detail else ''}")
    return {"name": name, "met": met, "measured": measured, "goal": goal, "higher_is_better": higher_is_better}


def run(scale: str, keep: bool = False) -> dict:
    from kg.synth import synthesize

    triples = SCALES[scale]
    sources = max(2, (triples - FIXED_TRIPLES) // TRIPLES_PER_SOURCE)
    work = Path(tempfile.mkdtemp(prefix=f"kg-bench-{scale}-"))
    corpus = work / "corpus"
    print(f"kg benchmarks at {scale}: {sources} synthetic sources, work folder {work}")
    synthesize(sources=sources, seed=7, out=corpus)
    synthesize(sources=15, seed=9, out=work / "new", conflict_share=0.3)  # ~100 claims for kg add
    (work / "new" / "facts" / "synth-reference.ttl").unlink()
    graphs = {str(p): _graph_of(p) for p in _corpus_files(corpus)}
    (work / "graphs.json").write_text(json.dumps(graphs))
    results: dict = {}
    results["kg_load"] = measure("kg_load", corpus, work)
    shutil.rmtree(work / "store")
    results["kg_load_cached"] = measure("kg_load_cached", corpus, work)
    results["raw_bulk_load"] = measure("raw_bulk_load", corpus, work)
    results["rdflib_parse"] = measure("rdflib_parse", corpus, work)
    results["naive_pipeline"] = measure("naive_pipeline", corpus, work)
    results["queries_kg"] = measure("queries", corpus, work, "kg")
    results["queries_oxigraph"] = measure("queries", corpus, work, "oxigraph")
    results["queries_rdflib"] = measure("queries", corpus, work, "rdflib")
    results["kg_validate"] = measure("kg_validate", corpus, work)
    results["pyshacl_validate"] = measure("pyshacl_validate", corpus, work)
    results["kg_add"] = measure("kg_add", corpus, work)
    results["full_revalidation"] = measure("full_revalidation", corpus, work)
    results["remote_kg"] = measure("remote_kg", corpus, work)
    results["remote_raw"] = measure("remote_raw", corpus, work)

    loaded = results["kg_load"]["result"]["triples"]
    print(f"\n{loaded} triples. Times in seconds (median of repeated runs after a warm-up for queries):")
    print(f"{'query':<22}{'kg':>10}{'oxigraph':>10}{'rdflib':>10}{'kg/ox':>8}{'rdflib/kg':>10}")
    for name in sorted(results["queries_kg"]["result"]):
        k = results["queries_kg"]["result"][name]["seconds"]
        o = results["queries_oxigraph"]["result"][name]["seconds"]
        r = results["queries_rdflib"]["result"][name]["seconds"]
        print(f"{name:<22}{k:10.4f}{o:10.4f}{r:10.3f}{k / o:8.2f}{r / k:10.1f}")
    targets = []
    cached = results["kg_load_cached"]
    targets.append(target("load-validated-corpus-vs-bulk-load", results["raw_bulk_load"]["seconds"] / cached["seconds"], 0.8,
                          detail="cache hit" if cached["result"]["cached"] else "cache NOT hit"))
    same_first = results["kg_load"]["result"]["conforms"] == results["naive_pipeline"]["result"]["conforms"]
    targets.append(target("first-load-vs-naive-pipeline", results["naive_pipeline"]["seconds"] / results["kg_load"]["seconds"], 3,
                          detail=f"same verdict: {same_first}"))
    worst_ox = max(results["queries_kg"]["result"][n]["seconds"] / max(results["queries_oxigraph"]["result"][n]["seconds"], 1e-9)
                   for n in results["queries_kg"]["result"])
    targets.append(target("each-query-vs-raw-oxigraph", worst_ox, 1.25, higher_is_better=False, detail="worst query"))
    worst_rdflib = min(results["queries_rdflib"]["result"][n]["seconds"] / max(results["queries_kg"]["result"][n]["seconds"], 1e-9)
                       for n in results["queries_kg"]["result"])
    targets.append(target("each-query-vs-rdflib", worst_rdflib, 20, detail="worst query"))
    same_add = (results["kg_add"]["result"]["problems"] == results["full_revalidation"]["result"]["problems"]
                and results["kg_add"]["result"]["conforms"] == results["full_revalidation"]["result"]["conforms"])
    targets.append(target("add-100-claims-vs-full-revalidation",
                          results["full_revalidation"]["seconds"] / results["kg_add"]["seconds"], 50,
                          detail=f"same verdict: {same_add}"))
    same_validation = results["kg_validate"]["result"]["problems"] == results["pyshacl_validate"]["result"]["problems"]
    targets.append(target("full-validation-vs-pyshacl", results["pyshacl_validate"]["seconds"] / results["kg_validate"]["seconds"],
                          3, detail=f"same verdict: {same_validation}"))
    targets.append(target("remote-load-vs-raw-put", results["remote_raw"]["result"]["seconds_inside"]
                          / results["remote_kg"]["result"]["seconds_inside"], 0.8))
    peak = max(v["rss_mb"] for v in results.values())
    targets.append(target("peak-memory-mb", peak, 2048, higher_is_better=False))
    record = {
        "scale": scale, "triples": loaded, "sources": sources,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "results": results, "targets": targets,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{scale}.json"
    path.write_text(json.dumps(record, indent=1, default=str))
    print(f"\nwrote {path}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="10k")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.corpus, args.work, args.engine)
    else:
        run(args.scale, keep=args.keep)


if __name__ == "__main__":
    main()
