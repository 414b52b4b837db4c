"""The service layer: what users run — load, add, remove, correct, retract — written once over the Store protocol.

Imports the store layer and those below it."""
