"""The store layer: the Store protocol and its two implementations (embedded Oxigraph, any SPARQL 1.1 server), and the validation cache.

Imports the validation, query and model layers."""
