"""Where the project's data lives: the ontology, the shapes, the stored queries, the facts.

A wheel carries copies under ``kg/_data``; a source checkout (including an editable
install) reads them from the repository's top-level folders.
"""

from pathlib import Path

_PACKAGE_DATA = Path(__file__).resolve().parents[1] / "_data"  # kg/_data
_CHECKOUT = Path(__file__).resolve().parents[3]  # the repository, above src/kg/model


def _data_dir(name: str) -> Path:
    for root in (_PACKAGE_DATA, _CHECKOUT):
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"kg's {name}/ folder is missing from {_PACKAGE_DATA} and {_CHECKOUT}")


def ontology_dir() -> Path:
    """The folder holding ``kg.ttl`` and ``shapes.ttl``."""
    return _data_dir("ontology")


def ontology_path() -> Path:
    """The OWL ontology."""
    return ontology_dir() / "kg.ttl"


def shapes_path() -> Path:
    """The SHACL shapes."""
    return ontology_dir() / "shapes.ttl"


def queries_dir() -> Path:
    """The catalogue of stored SPARQL queries."""
    return _data_dir("queries")


def facts_dir() -> Path:
    """The facts: shared reference data and one Turtle file per source."""
    return _data_dir("facts")


def project_dir(start: Path | None = None) -> Path | None:
    """The kg project the current folder lies in: the nearest folder, walking up as git does, with
    ``ontology/kg.ttl`` and ``facts/``; ``None`` outside any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "ontology" / "kg.ttl").is_file() and (folder / "facts").is_dir():
            return folder
    return None


def default_load_paths() -> list[Path]:
    """What ``kg load`` loads when given no paths: the ontology and every facts file of the project the
    current folder lies in (:func:`project_dir`), else the copies that come with kg."""
    project = project_dir()
    if project is not None:
        return [project / "ontology" / "kg.ttl", *sorted((project / "facts").glob("*.ttl"))]
    return [ontology_path(), *sorted(facts_dir().glob("*.ttl"))]
