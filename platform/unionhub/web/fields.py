"""Reading a submitted form (``request.form`` or a plain mapping) in a service: every bad field
gets its own message and reading goes on, so that the page can show them all at once.

Plugins subclass :class:`FieldReader` with the typed readers their forms need and name the
error :meth:`FieldReader.done` raises (an exception taking the ``{field: message}`` mapping).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from unionhub.i18n import _


class FieldReader:
    """Reads one form's fields, collecting an error per bad field instead of stopping."""

    #: Raised by :meth:`done` with the collected ``{field: message}`` mapping.
    error: ClassVar[type[Exception]] = ValueError

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def raw(self, key: str) -> str:
        """The field's text, stripped ("" when missing; the first value of a list)."""
        value = self.data.get(key)
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        return "" if value is None else str(value).strip()

    def many(self, key: str) -> list[str]:
        """Every non-empty value of a multi-valued field, stripped."""
        value = self.data.get(key) or []
        items = value if isinstance(value, list | tuple) else [value]
        return [str(v).strip() for v in items if str(v).strip()]

    def fail(self, key: str, message: str) -> None:
        """Record ``message`` for ``key`` (the first message of a field wins)."""
        self.errors.setdefault(key, message)

    def ids(self, key: str, label: str) -> list[int]:
        """Ids chosen in a multi-valued field, sorted and without repeats; any malformed value
        fails the field."""
        out: set[int] = set()
        for item in self.many(key):
            if not item.isdigit() or len(item) > 9:
                self.fail(key, _("%(field)s选择有误", field=_(label)))
                return []
            out.add(int(item))
        return sorted(out)

    def done(self) -> None:
        """Raise :attr:`error` with every collected message, if there is any."""
        if self.errors:
            raise self.error(self.errors)
