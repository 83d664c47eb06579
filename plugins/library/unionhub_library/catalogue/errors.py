"""The catalogue's refusals: every one names the field (or the file) and says why."""

from __future__ import annotations

from collections.abc import Mapping


class CatalogueError(ValueError):
    """Refused input; ``errors`` maps each bad field (``title``, ``isbn``, ``file``, ``cover``
    …) to a message for the user. Raised before anything is written, or after the caller's
    savepoint has been rolled back."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))


class IngestError(CatalogueError):
    """A book file (or the metadata given with it) was refused; nothing was stored."""

    @classmethod
    def file(cls, message: str) -> IngestError:
        return cls({"file": message})
