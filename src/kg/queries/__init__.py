"""The query layer: the catalogue of stored SPARQL queries, their parameters, the engines that run them, and result formats.

Imports the model layer only."""
