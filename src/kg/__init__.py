"""kg: a fact store for statements made in news reports about armed conflict.

The library comes first; the ``kg`` command is a thin layer over it.

>>> from kg import FactStore, run_query
>>> store = FactStore.in_memory()
>>> report = store.load()                  # the ontology, reference data and facts
>>> report.conforms
True
>>> rows = run_query("compare-periods", store=store).rows
>>> rows[0]["value_a"], rows[0]["value_b"], rows[0]["ratio"]
(153, 121, Decimal('1.264'))
"""

from kg.model.errors import KgError

#: Where each public name lives; imported when first used, so `kg --help` and a stored query start
#: without loading pySHACL and rdflib's SPARQL engine (PEP 562).
_LAZY = {
    "QueryResult": "kg.queries.catalogue", "StoredQuery": "kg.queries.catalogue", "load_catalogue": "kg.queries.catalogue", "run_query": "kg.queries.catalogue",
    "FactStore": "kg.stores.oxigraph", "LoadReport": "kg.stores.oxigraph",
    "ValidationReport": "kg.validation.validator", "validate": "kg.validation.validator",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kg' has no attribute {name!r}")

__all__ = [
    "FactStore",
    "KgError",
    "LoadReport",
    "QueryResult",
    "StoredQuery",
    "ValidationReport",
    "load_catalogue",
    "run_query",
    "validate",
]
__version__ = "0.1.0"
