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

from kg.errors import KgError
from kg.queries import QueryResult, StoredQuery, load_catalogue, run_query
from kg.store import FactStore, LoadReport
from kg.validate import ValidationReport, validate

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
