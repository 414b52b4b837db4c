"""Errors that kg reports to people: each carries a one-paragraph message and an exit code."""


class KgError(Exception):
    """A problem with the user's input or environment, reported without a traceback.

    Attributes:
        exit_code: 2 for bad input or usage (the default), 1 for violations found.
    """

    exit_code = 2


class BadInputError(KgError):
    """A file or value that kg cannot read or use."""


class QueryParameterError(KgError):
    """A stored query's parameter is missing, unknown or malformed."""


class StoreError(KgError):
    """The store cannot be opened or written."""


class ValidationFailed(KgError):
    """Facts do not conform to the shapes; nothing was loaded."""

    exit_code = 1

    def __init__(self, report):
        super().__init__(f"{report.summary()}; nothing was loaded.")
        self.report = report


class ChecksFailed(KgError):
    """A check found problems and has printed its report (validation, coverage, quotes): exit 1, no more words."""

    exit_code = 1
