"""Translating messages made by services, which run both in requests and outside them.

A refusal reason or validation message built in a service is shown to a viewer in their
language while serving a request; in a job, the CLI or the demo seeder there is no viewer and
no locale to choose, and Flask-Babel's ``gettext`` needs one. :func:`_` picks the right one.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import gettext


def _(message: str, **values: Any) -> str:
    """``gettext`` while serving a request; the (Chinese) source text elsewhere, with
    ``%(name)s`` placeholders filled the same way."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message
