"""Shared fixtures: the project's files, the first source's text, stores on both engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from kg.model.resources import default_load_paths, facts_dir, ontology_path, shapes_path
from kg.queries.engines import RdflibEngine
from kg.stores.oxigraph import FactStore, dataset_from_files

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = ROOT.parent / "shared" / "sources"
FIRST_SOURCE_ID = "newsweek-isis-attacks-2024"
FIRST_SOURCE_FACTS = facts_dir() / f"{FIRST_SOURCE_ID}.ttl"
REFERENCE_FACTS = facts_dir() / "reference.ttl"
#: The FICTIONAL multi-source fixtures: four outlets relaying one statement, and their shared reference data.
MULTI = FIXTURES / "multi"
OUTLETS = ["fictional-wire-2024", "fictional-tribune-2024", "fictional-courier-2024", "fictional-gazette-2024"]
MULTI_FILES = [MULTI / "fictional-reference.ttl", *(MULTI / f"{outlet}.ttl" for outlet in OUTLETS)]


@pytest.fixture(scope="session")
def source_text() -> str:
    """The first source's text, from ../shared/sources; the test skips where it is absent."""
    path = SOURCES / f"{FIRST_SOURCE_ID}.txt"
    if not path.exists():
        pytest.skip(f"source text not available at {path} (it lives outside the project, in shared/sources)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def facts_graph() -> Graph:
    """The first source's facts, parsed (read-only: copy before changing)."""
    return Graph().parse(FIRST_SOURCE_FACTS)


@pytest.fixture(scope="session")
def reference_graph() -> Graph:
    return Graph().parse(REFERENCE_FACTS)


@pytest.fixture(scope="session")
def ontology_graph() -> Graph:
    return Graph().parse(ontology_path())


@pytest.fixture(scope="session")
def shapes_graph() -> Graph:
    return Graph().parse(shapes_path())


@pytest.fixture(scope="session")
def loaded_store() -> FactStore:
    """An in-memory embedded store with the ontology and all facts loaded."""
    store = FactStore.in_memory()
    store.load()
    return store


@pytest.fixture(scope="session")
def rdflib_engine() -> RdflibEngine:
    """Plain rdflib over the same files."""
    return RdflibEngine(dataset_from_files(default_load_paths()))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    """An embedded store on disk, loaded by `kg load` (one per test module), for in-process CLI tests."""
    from click.testing import CliRunner

    from kg.cli.commands import main

    path = tmp_path_factory.mktemp("kg") / "store"
    result = CliRunner().invoke(main, ["load", "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture()
def project_copy(tmp_path) -> Path:
    """A writable copy of ontology/ and facts/, for tests that edit files."""
    for name in ("ontology", "facts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


# pySHACL alone, the reference the fast engine is compared with, hands rdflib each SHACL-SPARQL query
# as text once per focus node, and rdflib parses it every time (about 0.1 s for a long query: most of a
# reference run). In the tests only, rdflib's parse-and-translate step is memoised by query text: the
# same algebra is evaluated, so the reference report is unchanged, and the suite stays within minutes.
def _memoise_rdflib_query_translation() -> None:
    from functools import lru_cache

    from rdflib.plugins.sparql import processor

    @lru_cache(maxsize=1024)
    def translate(text: str, base, namespaces):
        return processor.translateQuery(processor.parseQuery(text), base, dict(namespaces) if namespaces else None)

    original = processor.SPARQLProcessor.query

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            strOrQuery = translate(strOrQuery, base, tuple(sorted((initNs or {}).items())))
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query


_memoise_rdflib_query_translation()


#: The files that take longest, run first: with `make test` handing out whole files to workers
#: (--dist loadfile), a long file handed out last would leave one worker running on alone.
LONGEST_FIRST = ("test_readme_script.py", "test_validation_engines.py", "test_servers.py", "test_reload.py",
                 "test_report.py", "test_lifecycle.py", "test_incremental.py", "test_endpoint.py", "test_crash.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).name, len(rank)))
