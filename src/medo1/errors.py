"""Errors users see as one clear line (the CLI prints them without a traceback)."""


class Medo1Error(Exception):
    """An error caused by input or configuration; its message is the whole story."""


class InputError(Medo1Error):
    """Bad input data: the message reads `file:line: field: what is wrong`."""

    def __init__(self, path, line: int | str, field: str, problem: str):
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        super().__init__(f"{self.path}:{line}: {field}: {problem}")

    def __reduce__(self):  # pickled whole (an error raised in a training process comes back to the run)
        return type(self), (self.path, self.line, self.field, self.problem)


class ModelError(Medo1Error):
    """A model call failed for good (after retries, or not retryable)."""
