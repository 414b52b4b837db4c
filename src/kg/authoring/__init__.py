"""The authoring layer: new-source templates, quotes and their offsets in a source text, coverage, synthetic corpora.

Imports the model layer only."""
