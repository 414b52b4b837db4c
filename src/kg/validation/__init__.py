"""The validation layer: SHACL validation with pySHACL, the SHACL-SPARQL constraints evaluated by Oxigraph, validation in parts, and problems explained.

Imports the query and model layers."""
