"""The model layer: kg's vocabulary and IRIs, its errors, where its data lives, and reading files safely.

Imports nothing else of kg."""
