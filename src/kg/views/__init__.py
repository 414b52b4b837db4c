"""The view layer: the HTML report, the ontology documentation, and pictures of claims.

Imports the service layer and those below it."""
