"""Errors raised by the scenario framework.

Every message names what is wrong (the scenario, the edit, the id and layer,
the file) and how to fix it, so that the one line the command line prints is
enough to act on.
"""

from __future__ import annotations

from cim.errors import CIMError

__all__ = ["BaselineChangedError", "IndicatorUnavailableError", "ScenarioError"]


class ScenarioError(CIMError, ValueError):
    """A scenario or one of its edits is invalid for the twin it is applied to.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    op
        The edit's operation (``"demolish"`` ...), if the error is an edit's.
    index
        Position of the edit in its scenario (0-based), if known.
    """

    def __init__(
        self, message: str, *, op: str | None = None, index: int | None = None
    ) -> None:
        super().__init__(message)
        self.op = op
        self.index = index


class BaselineChangedError(ScenarioError):
    """A branch was saved against a baseline twin whose content has changed since."""


class IndicatorUnavailableError(CIMError, RuntimeError):
    """An indicator module cannot run here (a module it needs is missing)."""
