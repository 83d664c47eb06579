"""The import-handler contract (light: plugins import it at start-up)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table

    from unionhub.imports.engine import ImportContext


class RowError(ValueError):
    """A rejected row: which column and why (the line number is added by the engine)."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class ImportHandler:
    """How one kind of file is imported.

    * ``prepare(ctx)`` runs once before the rows (load look-ups such as org codes into
      ``ctx.state``; must be picklable: rows are validated in worker processes);
    * ``validate(state, row)`` turns one row (Chinese header → text) into the tuple of
      ``stage`` columns after ``import_id`` and ``line``, or raises :class:`RowError`;
      it must be a module-level function (it runs in worker processes);
    * ``review(ctx)`` runs SQL over the staged rows: rejects what needs the database to
      judge (yielding ``(line, column, reason)``) and returns the preview counts
      (new / changed / unchanged …);
    * ``apply(ctx)`` applies the staged rows set-based, in the caller's transaction, and
      returns the counts of what it did. Applying the same file twice must change nothing.
    """

    code: str
    label: str
    permission: str
    required: Sequence[str]
    validate: Callable[[Mapping[str, Any], Mapping[str, str]], tuple[Any, ...]]
    stage: Table
    review: Callable[[ImportContext], tuple[dict[str, int], list[tuple[int, str, str]]]]
    apply: Callable[[ImportContext], dict[str, Any]]
    optional: Sequence[str] = ()
    prepare: Callable[[ImportContext], None] | None = None
    description: str = ""
    count_labels: Mapping[str, str] = field(default_factory=dict)
