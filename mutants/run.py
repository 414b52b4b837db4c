"""Named mutations: each breaks one behaviour the tests claim to guard, and some test must then fail.

    python mutants/run.py [--only ID,ID] [--list]        (or: make mutants)

Each mutation is one textual change to the code, a query or the shapes (``MUTATIONS`` in
mutants/mutations.py: an id, the behaviour broken, the file, the text replaced and its
replacement, and the test files that should notice). It is applied to a copy of the project in a
temporary folder, never to the working tree; the named tests run against the copy, and the
mutation is *killed* when at least one fails, *survives* when all pass. The kill rate is printed
and written to mutants/results.json. Outside ``make test``: each mutation runs its tests anew.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "mutants"))

from mutations import MUTATIONS  # noqa: E402

COPIED = ("src", "tests", "queries", "ontology", "facts", "docs", "README.md", "pyproject.toml", "Makefile")


def project_copy(into: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", ".kg"))
        elif source.exists():
            shutil.copy2(source, into / name)
    shared = ROOT.parent / "shared"
    if shared.exists() and not (into.parent / "shared").exists():
        (into.parent / "shared").symlink_to(shared)  # the source texts some tests read, beside the project
    return into


def apply(project: Path, mutation: dict) -> None:
    path = project / mutation["file"]
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation["old"])
    if count != 1:
        raise SystemExit(f"mutation {mutation['id']}: the text to replace occurs {count} times in {mutation['file']} "
                         "(it must occur once); update mutants/mutations.py")
    path.write_text(text.replace(mutation["old"], mutation["new"]), encoding="utf-8")


def run_one(mutation: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"kg-mutant-{mutation['id']}-") as folder:
        project = project_copy(Path(folder) / "main")
        apply(project, mutation)
        environment = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n", "2",
                   *mutation["tests"]]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    killed = bool(failed)  # (with -x, xdist ends a failing run with exit 2: the FAILED lines decide)
    if not failed and result.returncode != 0:
        raise SystemExit(f"mutation {mutation['id']}: pytest could not run (exit {result.returncode}):\n"
                         f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return {"id": mutation["id"], "breaks": mutation["breaks"], "killed": killed, "by": failed[:3],
            "seconds": round(seconds, 1), "first_run": mutation.get("first_run", "killed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated mutation ids")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args()
    chosen = MUTATIONS
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m["id"] for m in MUTATIONS}
        if unknown:
            parser.error(f"unknown mutations: {', '.join(sorted(unknown))}")
        chosen = [m for m in MUTATIONS if m["id"] in wanted]
    if args.list:
        for mutation in chosen:
            print(f"{mutation['id']:<40} {mutation['breaks']}")
        return
    results = []
    for mutation in chosen:
        outcome = run_one(mutation)
        results.append(outcome)
        verdict = f"killed by {outcome['by'][0]}" if outcome["killed"] else "SURVIVED"
        print(f"{outcome['id']:<40} {verdict} ({outcome['seconds']} s)", flush=True)
    killed = sum(r["killed"] for r in results)
    print(f"\n{killed} of {len(results)} mutations killed ({100 * killed / len(results):.0f} %)")
    if not args.only:
        (ROOT / "mutants" / "results.json").write_text(json.dumps({"killed": killed, "total": len(results),
                                                                   "mutations": results}, indent=1) + "\n")
    sys.exit(0 if killed == len(results) else 1)


if __name__ == "__main__":
    main()
