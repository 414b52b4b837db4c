"""kg's benchmarks: every figure side by side with raw Oxigraph and rdflib, in the same run.

    python benchmarks/bench.py --scale 10k|100k|1m|10m      (or: make bench SCALE=10k)

Each measurement runs in a fresh subprocess, so its time and its peak memory (RSS) are its
own. The table is printed, the raw numbers are written to benchmarks/results/, and each
target is printed as ``TARGET <name>: met|MISSED (<measured ratio> vs <goal>)``. These are
measurements, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from kg.model.atomicfile import write_text

ROOT = Path(__file__).resolve().parents[1]
SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
TRIPLES_PER_SOURCE = 257
FIXED_TRIPLES = 5_000  # ontology, reference data and synthetic reference data


#: Parameters the stored queries are run with: reporting-chain needs words; who-said is asked as an
#: analyst asks it, of one figure (a lookup).
QUERY_PARAMS = {"reporting-chain": {"text": "attacks"}, "who-said": {"value": "153"}}


# --- measurements, each run in its own process ------------------------------------------------


def _corpus_files(corpus: Path) -> list[Path]:
    """The ontology, the project's facts (reference data and the real sources) and the synthetic corpus.

    The real sources are included so that the stored queries, run with their default
    parameters, find their real answers (153 vs 121 ...) among the synthetic claims.
    """
    real = sorted(p for p in (ROOT / "facts").glob("*.ttl") if p.name != "reference.ttl")
    return [ROOT / "ontology" / "kg.ttl", ROOT / "facts" / "reference.ttl", *real,
            *sorted((corpus / "facts").glob("*.ttl"))]


def _graph_of(path: Path) -> str:
    from kg.model.rdffiles import read_facts_file

    return str(read_facts_file(path).graph_iri)


def m_kg_load(corpus: Path, work: Path) -> dict:
    from kg.services.load import load
    from kg.stores.oxigraph import FactStore

    with FactStore(work / "store") as store:
        report = load(store, _corpus_files(corpus))  # what `kg load` runs
        return {"triples": report.triples, "conforms": report.conforms}


def _edited(corpus: Path, work: Path, name: str, note: str) -> Path:
    """A copy of the corpus's first synthetic source with its title changed (a valid correction)."""
    original = sorted((corpus / "facts").glob("synth-7-*.ttl"))[0]
    text = original.read_text(encoding="utf-8")
    at = text.index('rdfs:label "') + len('rdfs:label "')
    (work / name).mkdir(exist_ok=True)
    edited = work / name / original.name
    edited.write_text(text[:at] + note + " " + text[at:], encoding="utf-8")
    return edited


def m_kg_reload_unchanged(corpus: Path, work: Path) -> dict:
    """`kg load` of the whole corpus into the store that holds it."""
    from kg.services.load import load
    from kg.stores.oxigraph import FactStore

    with FactStore(work / "store") as store:
        report = load(store, _corpus_files(corpus))
        return {"written": len(report.graphs), "skipped": len(report.skipped), "conforms": report.conforms}


def m_kg_reload_one_changed(corpus: Path, work: Path) -> dict:
    """`kg load` of the corpus with one synthetic source corrected, into the store that holds the rest."""
    from kg.services.load import load
    from kg.stores.oxigraph import FactStore

    edited = _edited(corpus, work, "changed", "(corrected)")
    files = [edited if p.name == edited.name else p for p in _corpus_files(corpus)]
    with FactStore(work / "store") as store:
        report = load(store, files)
        return {"written": len(report.graphs), "skipped": len(report.skipped), "conforms": report.conforms}


def m_kg_add_replace(corpus: Path, work: Path) -> dict:
    """`kg add --replace` of that one corrected source (corrected once more), the comparison for a reload."""
    from kg.services.add import add_files
    from kg.stores.oxigraph import FactStore

    edited = _edited(corpus, work, "changed-again", "(corrected again)")
    with FactStore(work / "store") as store:
        report = add_files(store, [edited], replace=True, reason="benchmark")
        return {"written": int(report.added), "conforms": report.conforms}


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


def _raw_rows(store, sparql: str) -> list:
    """Raw pyoxigraph: every value of every row read, as a program using the answer would."""
    solutions = store.query(sparql, use_default_graph_as_union=True)
    variables = solutions.variables
    return [[solution[v] for v in variables] for solution in solutions]


def _interleaved(a, b, repeat: int, *, budget: float = 3.0) -> tuple[float, float, int, int]:
    """Medians of ``a`` and ``b`` run alternately (a b, b a, ...) after one warm-up each; a's row count; repeats.

    Fast queries are repeated more (as many as fit in ``budget`` seconds, at most 101) for a stable median.
    """
    start = time.perf_counter()
    result = a()
    b()
    warm = time.perf_counter() - start
    repeat = max(repeat, min(101, int(budget / max(warm, 1e-6))))
    times_a, times_b = [], []
    for i in range(repeat):
        for run, times in ((a, times_a), (b, times_b)) if i % 2 == 0 else ((b, times_b), (a, times_a)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b), len(result.terms), repeat


def first_pages_only() -> bool:
    """``KG_BENCH_FIRST_PAGES=1``: time each listing's first page only (and the lookups whole), without the whole
    answers against raw Oxigraph — at 10 M, raw Oxigraph's whole answers take hours; the ratios are measured to 1 M."""
    return os.environ.get("KG_BENCH_FIRST_PAGES") == "1"


def only_queries() -> list[str] | None:
    """The stored queries ``KG_BENCH_QUERIES`` limits a query step to (comma-separated), or ``None``: all."""
    return os.environ.get("KG_BENCH_QUERIES", "").split(",") if os.environ.get("KG_BENCH_QUERIES") else None


def _served_from_kept(store, query, params) -> bool:
    """Whether kg answers this query from the answers kept with the store (kg.queries.kept), not by running it."""
    kept = store.engine.kept
    return bool(kept is not None and query.kept is not None and query.bindings(params) == query.bindings({})
                and kept.page(query.name, query.kept_digest(), limit=1) is not None)


def m_queries(corpus: Path, work: Path, engine: str) -> dict:
    from kg.cli.commands import TABLE_PAGE
    from kg.queries.catalogue import load_catalogue, run_query

    catalogue = load_catalogue()
    if only_queries():  # some queries only (the lookups at 10 M): a partial step, said so
        catalogue = {name: catalogue[name] for name in only_queries()}
    params = QUERY_PARAMS
    repeat = int(os.environ.get("KG_BENCH_REPEAT", "5"))
    out = {}
    if engine == "kg":
        # kg and raw Oxigraph timed interleaved (A B, B A, ...) in this one process on one open store, so
        # that their ratio measures kg's own cost and not what the machine's neighbours did in between.
        from kg.stores.oxigraph import FactStore

        store = FactStore(work / "store", read_only=True)
        for name, query in catalogue.items():
            sparql = query.bind(params.get(name))
            kg_run = lambda: run_query(query, store=store, params=params.get(name))
            raw_run = lambda: _raw_rows(store.oxigraph, sparql)
            # The first page, as `kg query` shows it (TABLE_PAGE rows and one to tell whether more follow).
            first_page, page = _median(lambda: run_query(query, store=store, params=params.get(name),
                                                         limit=TABLE_PAGE + 1), 3)
            if first_pages_only() and name not in LOOKUPS:
                out[name] = {"first_page_seconds": first_page, "page_rows": len(page.terms),
                             "kept": _served_from_kept(store, query, params.get(name))}
                continue
            kg_seconds, raw_seconds, rows, repeats = _interleaved(kg_run, raw_run, repeat)
            out[name] = {"seconds": kg_seconds, "oxigraph_seconds": raw_seconds, "rows": rows, "repeats": repeats,
                         "first_page_seconds": first_page, "kept": _served_from_kept(store, query, params.get(name))}
    elif engine == "oxigraph":
        import pyoxigraph as ox

        store = ox.Store.read_only(str(work / "store"))
        for name, query in catalogue.items():
            sparql = query.bind(params.get(name))
            seconds, rows = _median(lambda: _raw_rows(store, sparql), repeat)
            out[name] = {"seconds": seconds, "rows": len(rows)}
    else:
        from rdflib import Dataset

        dataset = Dataset(default_union=True)
        graphs = json.loads((work / "graphs.json").read_text())
        for path in _corpus_files(corpus):
            dataset.graph(graphs[str(path)]).parse(path, format="turtle")
        rdflib_repeat = max(1, min(repeat, int(os.environ.get("KG_BENCH_RDFLIB_REPEAT", "3"))))
        limit = float(os.environ.get("KG_BENCH_RDFLIB_QUERY_LIMIT", "300"))
        for name, query in catalogue.items():
            sparql = query.bind(params.get(name))
            try:
                with _time_limit(limit):
                    seconds, rows = _median(lambda: list(dataset.query(sparql)), rdflib_repeat)
                out[name] = {"seconds": seconds, "rows": len(rows)}
            except _OverTime:  # rdflib's engine is pure Python, so an alarm can stop it between steps
                out[name] = {"seconds": None, "stopped_after": limit, "rows": None}
    return out


class _OverTime(Exception):
    pass


class _time_limit:
    """Raise _OverTime in this (main) thread when ``seconds`` have passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        import signal

        def stop(signum, frame):
            raise _OverTime()

        self.previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
        return False


def m_kg_validate(corpus: Path, work: Path) -> dict:
    from kg.validation.validator import validate

    report = validate(_corpus_files(corpus)[1:])
    return {"conforms": report.conforms, "counts": report.counts(),
            "problems": sorted([p.severity, p.focus, p.shape, p.message] for p in report.problems)}


def m_pyshacl_validate(corpus: Path, work: Path) -> dict:
    from kg.validation.validator import validate

    report = validate(_corpus_files(corpus)[1:], engine="pyshacl")
    return {"conforms": report.conforms, "counts": report.counts(),
            "problems": sorted([p.severity, p.focus, p.shape, p.message] for p in report.problems)}


def m_kg_add(corpus: Path, work: Path) -> dict:
    from kg.services.add import check_files
    from kg.stores.oxigraph import FactStore

    store = FactStore(work / "store")
    report = check_files(store, sorted((work / "new" / "facts").glob("synth-9-*.ttl")))
    return {"conforms": report.conforms, "problems": sorted([p.severity, p.focus, p.shape, p.message]
                                                            for p in report.validation.problems),
            "triples_read": report.triples_read}


def m_full_revalidation(corpus: Path, work: Path) -> dict:
    from kg.validation.validator import validate

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
    from kg.stores.sparql_protocol import Endpoint, RemoteStore

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


def m_queries_on_servers(corpus: Path, work: Path) -> dict:
    """Each stored query on Virtuoso and on `oxigraph serve`, the same corpus loaded into both by kg, timed
    interleaved; a query that takes longer than KG_BENCH_SERVER_QUERY_LIMIT seconds (60) counts at it."""
    sys.path.insert(0, str(ROOT / "tests"))
    from servers import virtuoso_server  # the tests' own start-up: loopback, a fresh database, stopped by PID

    from kg.queries.catalogue import load_catalogue, run_query
    from kg.stores.sparql_protocol import Endpoint, EndpointError, RemoteStore

    limit = float(os.environ.get("KG_BENCH_SERVER_QUERY_LIMIT", "60"))
    params = QUERY_PARAMS
    shutil.rmtree(work / "server-queries", ignore_errors=True)
    (work / "server-queries").mkdir()
    process, base = _server(work / "server-queries" / "oxigraph")
    out: dict = {}
    try:
        with virtuoso_server(work / "server-queries" / "virtuoso") as virtuoso_url, \
                RemoteStore(Endpoint.at(f"{base}/query", timeout=limit)) as oxigraph, \
                RemoteStore(Endpoint.at(virtuoso_url, server="virtuoso", timeout=limit)) as virtuoso:
            for store in (oxigraph, virtuoso):
                store.load(_corpus_files(corpus), check=False)

            def timed(store, query):
                def run():
                    try:
                        return run_query(query, store=store, params=params.get(query.name))
                    except EndpointError:  # over its time limit: counted at the limit
                        return None
                return run

            for name, query in load_catalogue().items():
                a, b = timed(virtuoso, query), timed(oxigraph, query)
                times: dict[str, list[float]] = {"virtuoso": [], "oxigraph": []}
                for i in range(4):  # the first round warms both up and is not counted
                    for label, run in (("virtuoso", a), ("oxigraph", b)) if i % 2 == 0 else (("oxigraph", b), ("virtuoso", a)):
                        start = time.perf_counter()
                        answer = run()
                        elapsed = time.perf_counter() - start if answer is not None else limit
                        if i:
                            times[label].append(elapsed)
                out[name] = {"virtuoso_seconds": statistics.median(times["virtuoso"]),
                             "oxigraph_seconds": statistics.median(times["oxigraph"]),
                             "virtuoso_stopped": any(t >= limit for t in times["virtuoso"])}
    finally:
        process.terminate()
        process.wait()
    return out


MEASUREMENTS = {name[2:]: fn for name, fn in globals().items() if name.startswith("m_") and name != "m_queries"}


def _tree_memory_mb(pid: int) -> float:
    """The memory a Python process and its Python descendants (kg's forked workers; not the servers a
    step starts) hold together: the sum of their proportional set sizes (PSS: a page two forked
    processes share counts half in each), from /proc (Linux)."""
    total_kb, pending, python = 0, [pid], os.path.realpath(f"/proc/{pid}/exe")
    while pending:
        current = pending.pop()
        try:
            if os.path.realpath(f"/proc/{current}/exe") == python:
                with open(f"/proc/{current}/smaps_rollup", encoding="ascii") as status:
                    total_kb += next((int(line.split()[1]) for line in status if line.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    pending.extend(int(child_pid) for child_pid in children.read().split())
        except (OSError, ValueError):
            continue  # the process ended while read
    return total_kb / 1024


class _PeakMemory:
    """Samples :func:`_tree_memory_mb` of this process once a second: kg checks parts of a large
    validation in forked processes, whose memory the process's own peak RSS does not see. (Reading a
    process's PSS walks its pages: some 20 ms for 2 GB, so not more often.)"""

    def __init__(self):
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(1.0):
            self.peak_mb = max(self.peak_mb, _tree_memory_mb(os.getpid()))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


#: A step's problems are recorded one by one up to this many; more (a 10 M validation has tens of
#: thousands) as their number and the SHA-256 of the sorted list, which compares the same way.
PROBLEMS_LISTED = 1000


def compact(result: dict | None) -> dict | None:
    """A step's result with a long list of problems replaced by its count and digest.

    >>> compact({"conforms": True, "problems": [["Warning", "x", "s", "m"]] * 1001})["problems"]["count"]
    1001
    """
    problems = (result or {}).get("problems")
    if not isinstance(problems, list) or len(problems) <= PROBLEMS_LISTED:
        return result
    digest = hashlib.sha256(json.dumps(problems, sort_keys=True).encode("utf-8")).hexdigest()
    return {**result, "problems": {"count": len(problems), "sha256": digest}}


def child(name: str, corpus: Path, work: Path, engine: str | None) -> None:
    sampler = _PeakMemory() if os.path.exists("/proc/self/smaps_rollup") else None
    started = time.perf_counter()
    result = m_queries(corpus, work, engine) if name == "queries" else MEASUREMENTS[name](corpus, work)
    seconds = time.perf_counter() - started
    # Peak memory: the process's own peak RSS, or its processes' sampled sum where that is higher.
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, sampler.stop() if sampler else 0.0)
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "result": result}))


#: Every step of a run, in order: (result key, measurement, engine, folders to clear before it).
STEPS = (
    ("kg_load", "kg_load", None, ("store", "store-answers.sqlite")),
    ("raw_bulk_load", "raw_bulk_load", None, ("raw-store",)),
    ("rdflib_parse", "rdflib_parse", None, ()),
    ("naive_pipeline", "naive_pipeline", None, ("naive-store",)),
    ("queries_kg", "queries", "kg", ()),
    ("queries_oxigraph", "queries", "oxigraph", ()),
    ("queries_rdflib", "queries", "rdflib", ()),
    ("kg_validate", "kg_validate", None, ()),
    ("pyshacl_validate", "pyshacl_validate", None, ()),
    ("kg_add", "kg_add", None, ()),
    ("full_revalidation", "full_revalidation", None, ()),
    ("remote_kg", "remote_kg", None, ("server-kg",)),
    ("remote_raw", "remote_raw", None, ("server-raw",)),
    ("queries_on_servers", "queries_on_servers", None, ()),
    # Last: they change one source in the store the steps above read.
    ("kg_reload_unchanged", "kg_reload_unchanged", None, ()),
    ("kg_reload_one_changed", "kg_reload_one_changed", None, ()),
    ("kg_add_replace", "kg_add_replace", None, ()),
)
#: Steps a run may lack (they need software beyond kg's own: Debian's Virtuoso).
OPTIONAL_STEPS = ("queries_on_servers",)
#: The lookups an analyst runs all day; each should answer in under 100 ms at every scale.
LOOKUPS = ("claims-by-actor", "compare-periods", "who-said")
#: The steps that run kg's own code; the peak-memory target is about these.
KG_STEPS = ("kg_load", "queries_kg", "kg_validate", "kg_add", "remote_kg", "kg_reload_unchanged",
            "kg_reload_one_changed", "kg_add_replace")


def _commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--", "src", "queries", "ontology", "facts") else "")


def measure(key: str, corpus: Path, work: Path, *, limit: float | None = None) -> dict:
    """Run one step in a fresh process; save and return its time, peak RSS and result."""
    _, name, engine, clear = next(step for step in STEPS if step[0] == key)
    for folder in clear:
        target_path = work / folder
        shutil.rmtree(target_path, ignore_errors=True) if target_path.is_dir() else target_path.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--child", name, "--corpus", str(corpus), "--work", str(work)]
    if engine:
        command += ["--engine", engine]
    stamp = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": _commit()}
    if name == "queries" and only_queries():  # a partial query step says which it timed
        stamp["only_queries"] = only_queries()
    if name == "queries" and engine == "kg" and first_pages_only():
        stamp["first_pages_only"] = True
    # Its own process group, stopped whole at the limit: a step's servers (oxigraph serve, Virtuoso) go with it.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=limit)
        output = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        data = {"seconds": None, "stopped_after": limit, "rss_mb": None, "result": None, **stamp}
        print(f"  {key:<28} stopped after {limit:.0f} s", flush=True)
    else:
        if output.returncode != 0:
            raise RuntimeError(f"{key} failed:\n{output.stderr[-3000:]}")
        data = {**json.loads(output.stdout.strip().splitlines()[-1]), **stamp}
        print(f"  {key:<28} {data['seconds']:9.2f} s  {data['rss_mb']:8.0f} MB", flush=True)
    (work / "results").mkdir(exist_ok=True)
    write_text(work / "results" / f"{key}.json", json.dumps(data, indent=1))
    return data


# --- the run ----------------------------------------------------------------------------------


def target(name: str, measured: float, goal: float, *, higher_is_better: bool = True, detail: str = "",
           bound: bool = False, worse_bound: bool = False) -> dict:
    """Print and return one target line.

    ``bound``: a baseline was stopped at its limit, so the truth is at least as good as ``measured`` — met
    if ``measured`` meets the goal, else undecided. ``worse_bound``: the step measured was stopped, so
    the truth is at least as bad — missed if ``measured`` misses, else undecided. Undecided is ``met: None``.
    """
    meets = measured >= goal if higher_is_better else measured <= goal
    met = (True if meets else None) if bound else (None if meets else False) if worse_bound else meets
    sign = "≥" if higher_is_better else "≤"
    prefix = ("at least " if higher_is_better == bound else "at most ") if bound or worse_bound else ""
    verdict = {True: "met", False: "MISSED", None: "UNDECIDED"}[met]
    print(f"TARGET {name}: {verdict} ({prefix}{measured:.2f} vs {sign} {goal}){' — ' + detail if detail else ''}")
    return {"name": name, "met": met, "measured": measured, "goal": goal, "higher_is_better": higher_is_better,
            "lower_bound": bound or worse_bound, "bound": prefix.strip() or None, "detail": detail}


def _seconds(step: dict) -> tuple[float, bool]:
    """A step's seconds, and whether they are only a lower bound (it was stopped at its limit)."""
    if step.get("seconds") is None:
        return step["stopped_after"], True
    return step["seconds"], False


def _verdict(a: dict, b: dict, *keys: str) -> str:
    if a.get("result") is None or b.get("result") is None:
        return "same verdict: not compared (a step was stopped)"
    return f"same verdict: {all(a['result'][k] == b['result'][k] for k in keys)}"


#: Targets of one size only: at ten million triples, on this two-core machine, the first load within 30
#: minutes, an unchanged reload within a minute, and peak memory under 8 GB (2 GB at the smaller sizes).
SIZE_TARGETS = {"10m": {"first-load-under-30-min": ("kg_load", 1800), "reload-unchanged-under-1-min":
                        ("kg_reload_unchanged", 60)}}
PEAK_MEMORY_MB = {"10m": 8192}


def targets_of(results: dict, *, scale: str | None = None) -> list[dict]:
    """Every target the measured steps allow, printed as TARGET lines (``scale``: with that size's own)."""
    r, out = results, []
    for name, (step, goal) in SIZE_TARGETS.get(scale, {}).items():
        if step in r:
            seconds, stopped = _seconds(r[step])
            out.append(target(name, seconds, goal, higher_is_better=False, worse_bound=stopped,
                              detail=f"{step}, seconds" + (" (stopped at its limit)" if stopped else "")))
    if {"kg_load", "naive_pipeline"} <= r.keys() and r["kg_load"].get("seconds"):
        naive, bound = _seconds(r["naive_pipeline"])
        out.append(target("first-load-vs-naive-pipeline", naive / r["kg_load"]["seconds"], 3, bound=bound,
                          detail=_verdict(r["kg_load"], r["naive_pipeline"], "conforms")))
    kg_stopped = "queries_kg" in r and r["queries_kg"].get("result") is None
    if kg_stopped:
        print("TARGET each-query-vs-raw-oxigraph, each-query-vs-rdflib: not measured (kg's query step was stopped "
              f"after {r['queries_kg']['stopped_after']:.0f} s)")
    pages_only = "queries_kg" in r and r["queries_kg"].get("first_pages_only")
    if pages_only:
        print("TARGET each-query-vs-raw-oxigraph: not measured (kg's query step timed first pages only: "
              "KG_BENCH_FIRST_PAGES)")
    if {"queries_kg", "queries_oxigraph"} <= r.keys() and not kg_stopped and not pages_only:
        kg, ox = r["queries_kg"]["result"], r["queries_oxigraph"]["result"]
        if ox is None:  # raw Oxigraph stopped whole: kg's total against its time so far
            total = sum(q["seconds"] for q in kg.values())
            out.append(target("each-query-vs-raw-oxigraph", total / r["queries_oxigraph"]["stopped_after"], 1.25,
                              higher_is_better=False, bound=True,
                              detail="raw Oxigraph's query step was stopped whole: kg's total over its time so far"))
        else:
            # Interleaved in kg's step where measured so (same process, same store, alternating); else the
            # separate raw step's time, which the machine's load between the two steps can skew.
            raw = lambda n: kg[n].get("oxigraph_seconds") or ox[n]["seconds"]
            how = "timed interleaved with kg" if all("oxigraph_seconds" in q for q in kg.values()) else "separate steps"
            worst = max(kg, key=lambda n: kg[n]["seconds"] / max(raw(n), 1e-9))
            out.append(target("each-query-vs-raw-oxigraph", kg[worst]["seconds"] / max(raw(worst), 1e-9),
                              1.25, higher_is_better=False, detail=f"worst query: {worst}; {how}"))
    if "queries_kg" in r and not kg_stopped:
        kg = r["queries_kg"]["result"]
        paged = [n for n in kg if "first_page_seconds" in kg[n]]
        if r["queries_kg"].get("only_queries"):  # the lookups alone (10 M): no listing's first page was timed
            print(f"TARGET first-page-under-1s: not measured (only {', '.join(kg)} timed: KG_BENCH_QUERIES)")
        elif paged:
            slowest = max(paged, key=lambda n: kg[n]["first_page_seconds"])
            out.append(target("first-page-under-1s", kg[slowest]["first_page_seconds"], 1, higher_is_better=False,
                              detail=f"seconds to a table's first page, slowest query: {slowest}"))
        looked = [n for n in LOOKUPS if n in kg]
        if looked:
            slowest = max(looked, key=lambda n: kg[n]["seconds"])
            out.append(target("lookups-under-100ms", kg[slowest]["seconds"] * 1000, 100, higher_is_better=False,
                              detail=f"milliseconds, slowest of {', '.join(looked)}: {slowest}"))
    if pages_only:
        pass  # no whole answers to compare with rdflib's
    elif {"queries_kg", "queries_rdflib"} <= r.keys() and not kg_stopped and r["queries_rdflib"].get("result") is None:
        # rdflib's whole query step was stopped at its limit: its total is at least that long.
        total = sum(q["seconds"] for q in r["queries_kg"]["result"].values())
        out.append(target("each-query-vs-rdflib", r["queries_rdflib"]["stopped_after"] / max(total, 1e-9), 20, bound=True,
                          detail="rdflib's query step was stopped whole: ratio of totals"))
    elif {"queries_kg", "queries_rdflib"} <= r.keys() and not kg_stopped:
        kg, rd = r["queries_kg"]["result"], r["queries_rdflib"]["result"]

        def ratio(n):
            seconds = rd[n]["seconds"] if rd[n]["seconds"] is not None else rd[n]["stopped_after"]
            return seconds / max(kg[n]["seconds"], 1e-9)

        worst = min((n for n in kg if n in rd), key=ratio)  # a query rdflib's step did not have: not compared
        stopped = sorted(n for n in rd if rd[n]["seconds"] is None)
        detail = f"worst query: {worst}" + (f"; rdflib stopped at its limit on {', '.join(stopped)}" if stopped else "")
        out.append(target("each-query-vs-rdflib", ratio(worst), 20, detail=detail, bound=rd[worst]["seconds"] is None))
    if {"kg_add", "full_revalidation"} <= r.keys():
        full, bound = _seconds(r["full_revalidation"])
        out.append(target("add-100-claims-vs-full-revalidation", full / r["kg_add"]["seconds"], 50, bound=bound,
                          detail=_verdict(r["kg_add"], r["full_revalidation"], "conforms", "problems")))
    if {"kg_validate", "pyshacl_validate"} <= r.keys():
        pyshacl, bound = _seconds(r["pyshacl_validate"])
        out.append(target("full-validation-vs-pyshacl", pyshacl / r["kg_validate"]["seconds"], 3, bound=bound,
                          detail=_verdict(r["kg_validate"], r["pyshacl_validate"], "conforms", "problems")))
    if {"remote_kg", "remote_raw"} <= r.keys():
        out.append(target("remote-load-vs-raw-put", r["remote_raw"]["result"]["seconds_inside"]
                          / r["remote_kg"]["result"]["seconds_inside"], 0.8))
    if {"kg_reload_unchanged", "raw_bulk_load"} <= r.keys() and r["kg_reload_unchanged"].get("seconds"):
        reload = r["kg_reload_unchanged"]
        bulk_load, bound = _seconds(r["raw_bulk_load"])
        out.append(target("reload-unchanged-vs-bulk-load", bulk_load / reload["seconds"], 1, bound=bound,
                          detail=f"{reload['result']['skipped']} files skipped, {reload['result']['written']} written"))
    if {"kg_reload_one_changed", "kg_add_replace"} <= r.keys() and r["kg_add_replace"].get("seconds"):
        reload, add = _seconds(r["kg_reload_one_changed"])
        out.append(target("reload-one-changed-vs-add", reload / r["kg_add_replace"]["seconds"], 2, higher_is_better=False,
                          worse_bound=add, detail="kg load with one source corrected, against kg add --replace of it"))
    if "queries_on_servers" in r and r["queries_on_servers"].get("result"):
        servers = r["queries_on_servers"]["result"]
        worst = max(servers, key=lambda n: servers[n]["virtuoso_seconds"] / max(servers[n]["oxigraph_seconds"], 1e-9))
        w = servers[worst]
        out.append(target("virtuoso-vs-oxigraph-serve", w["virtuoso_seconds"] / max(w["oxigraph_seconds"], 1e-9), 3,
                          higher_is_better=False, worse_bound=w["virtuoso_stopped"],
                          detail=f"worst query: {worst}, {w['virtuoso_seconds']:.2f} s on Virtuoso against "
                                 f"{w['oxigraph_seconds']:.3f} s on oxigraph serve"))
    measured = [r[k]["rss_mb"] for k in KG_STEPS if k in r and r[k]["rss_mb"] is not None]
    if measured:
        out.append(target("peak-memory-mb", max(measured), PEAK_MEMORY_MB.get(scale, 2048), higher_is_better=False,
                          detail="kg's own steps, forked workers included"))
    return out


def prepare(scale: str, work: Path | None) -> tuple[Path, Path, int]:
    """The work folder with its synthetic corpus, made once and reused by later runs given ``--work``."""
    from kg.authoring.synth import synthesize

    triples = SCALES[scale]
    sources = max(2, (triples - FIXED_TRIPLES) // TRIPLES_PER_SOURCE)
    if work is None:
        work = Path(tempfile.mkdtemp(prefix=f"kg-bench-{scale}-"))
    corpus = work / "corpus"
    print(f"kg benchmarks at {scale}: {sources} synthetic sources, work folder {work}")
    if not (work / "graphs.json").exists():
        synthesize(sources=sources, seed=7, out=corpus)
        synthesize(sources=15, seed=9, out=work / "new", conflict_share=0.3)  # ~100 claims for kg add
        (work / "new" / "facts" / "synth-reference.ttl").unlink()
        graphs = {str(p): _graph_of(p) for p in _corpus_files(corpus)}
        write_text(work / "graphs.json", json.dumps(graphs))
    return work, corpus, sources


def print_query_table(results: dict) -> None:
    """Per query: kg, raw Oxigraph and rdflib seconds and their ratios; a step stopped whole leaves its column blank."""
    per_step = {key: results[key].get("result") or {} for key in ("queries_kg", "queries_oxigraph", "queries_rdflib")}
    for key in per_step:
        if not per_step[key]:
            print(f"({key} was stopped whole after {results[key]['stopped_after']:.0f} s: its columns are blank)")
    shown = lambda query: "" if query is None or query.get("seconds") is None else query["seconds"]
    for name in sorted(set().union(*per_step.values())):
        k, o, rd = (shown(per_step[key].get(name)) for key in per_step)
        o = (per_step["queries_kg"].get(name) or {}).get("oxigraph_seconds") or o  # interleaved with kg, if so
        ratio = lambda a, b, digits: f"{a / b:.{digits}f}" if a != "" and b != "" and b else ""
        number = lambda value, digits: "" if value == "" else f"{value:.{digits}f}"
        print(f"{name:<22}{number(k, 4):>10}{number(o, 4):>10}{number(rd, 3):>10}{ratio(k, o, 2):>8}{ratio(rd, k, 1):>10}"
              f"{'' if rd != '' else '  (rdflib stopped)'}")


def run(scale: str, *, work: Path | None = None, steps: list[str] | None = None, keep: bool = False,
        limit: float | None = None, update_record: bool = False) -> dict | None:
    """Measure ``steps`` (all by default) and write the results of every step measured in ``work``.

    With ``update_record``, steps not measured in ``work`` are taken from the recorded run
    (benchmarks/results/SCALE.json): each step keeps the commit and time it was measured at.
    """
    work, corpus, sources = prepare(scale, work)
    for key in steps if steps is not None else [step[0] for step in STEPS]:
        measure(key, corpus, work, limit=limit)
    results = {step[0]: json.loads((work / "results" / f"{step[0]}.json").read_text())
               for step in STEPS if (work / "results" / f"{step[0]}.json").exists()}
    recorded = ROOT / "benchmarks" / "results" / f"{scale}.json"
    if update_record and recorded.exists():
        earlier = json.loads(recorded.read_text())["results"]
        results = {step[0]: results.get(step[0], earlier.get(step[0])) for step in STEPS
                   if step[0] in results or step[0] in earlier}
    results = {key: {**step, "result": compact(step.get("result"))} for key, step in results.items()}
    missing = [step[0] for step in STEPS if step[0] not in results and step[0] not in OPTIONAL_STEPS]
    if missing:
        print(f"\nnot yet measured in {work}: {', '.join(missing)}; results not written")
        return None
    loaded = (results["kg_load"].get("result") or {}).get("triples")  # None: kg's first load was stopped
    print(f"\n{loaded} triples. Times in seconds (median of repeated runs after a warm-up for queries):")
    print(f"{'query':<22}{'kg':>10}{'oxigraph':>10}{'rdflib':>10}{'kg/ox':>8}{'rdflib/kg':>10}")
    print_query_table(results)
    record = {
        "scale": scale, "triples": loaded, "sources": sources,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "results": results, "targets": targets_of(results, scale=scale),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{scale}.json"
    write_text(path, json.dumps(record, indent=1, default=str))
    print(f"\nwrote {path}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="10k")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--work", type=Path, help="a work folder to make or reuse (kept); its corpus is made once")
    parser.add_argument("--steps", help="comma-separated steps to (re)measure: " + ", ".join(s[0] for s in STEPS))
    parser.add_argument("--limit", type=float, help="stop any step after this many seconds and record a lower bound")
    parser.add_argument("--update-record", action="store_true",
                        help="take the steps not measured in --work from the recorded run (results/SCALE.json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.corpus, args.work, args.engine)
    else:
        steps = None if args.steps is None else [s for s in args.steps.split(",") if s]
        unknown = set(steps or ()) - {s[0] for s in STEPS}
        if unknown:
            parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
        run(args.scale, work=args.work, steps=steps, keep=args.keep or args.work is not None, limit=args.limit,
            update_record=args.update_record)


if __name__ == "__main__":
    main()
