"""Typed errors and collected warnings.

Every error apdocs raises on purpose is an :class:`ApdocsError` carrying a stable
``code`` (documented in README), a message for a person, and the file it concerns.
Warnings are never raised: they are collected as :class:`Notice` values on the
record or result they belong to, so a batch can go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ApdocsError(Exception):
    """Base of every deliberate apdocs error."""

    code: str = "APDOCS_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        path: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        if code is not None:
            self.code = code
        self.path = path
        self.context = dict(context or {})
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole (worker processes send failures back): the default would call
        # cls(str(self)) and lose the code, path and context.
        return (_rebuild, (type(self), self.message, self.code, self.path, self.context))


def _rebuild(cls: type[ApdocsError], message: str, code: str, path: str | None, context: dict[str, Any]) -> ApdocsError:
    err = cls.__new__(cls)
    ApdocsError.__init__(err, message, code=code, path=path, context=context)
    return err


class DefinitionError(ApdocsError):
    """A form definition file is missing or malformed."""

    code = "DEFINITION_INVALID"


class UnknownFormError(ApdocsError):
    code = "FORM_UNKNOWN"


class TemplateError(ApdocsError):
    """A letter template could not be rendered (e.g. a placeholder has no value)."""

    code = "TEMPLATE_ERROR"


class ParseError(ApdocsError):
    """A returned file could not be read into a record."""

    code = "PARSE_ERROR"


class RosterError(ApdocsError):
    code = "ROSTER_INVALID"


@dataclass(frozen=True)
class Notice:
    """A warning collected while working; never raised."""

    code: str
    message: str
    where: str | None = None
    context: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.where:
            d["where"] = self.where
        return d
