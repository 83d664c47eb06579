"""Offer descriptions: HTML written by officers and merchants, under the core's
:data:`~unionhub.web.richtext.BASIC` policy (structure, lists, links; no images or styles),
sanitised on save and again on output."""

from __future__ import annotations

from markupsafe import Markup

from unionhub.web.richtext import BASIC, clean_typed, html_to_text, render

__all__ = ["MAX_DESCRIPTION", "clean_description", "editable_description", "html_to_text",
           "render_description"]

MAX_DESCRIPTION = 20_000


def clean_description(raw: str) -> str:
    """What to store for a description typed into the form."""
    return clean_typed(raw, BASIC)


def render_description(stored: str | None) -> Markup:
    """A stored description as markup that is safe to put in a page."""
    return render(stored, BASIC)


def editable_description(stored: str | None) -> str:
    """The form's textarea value: the stored (sanitised) HTML."""
    return stored or ""
