"""Fixtures for the library: the plugin enabled on the world of tests/helpers.py (with its
seeded top-level 中图法 classes), plus :func:`add_book` to put a title in the catalogue without
going through ingest."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select

from tests.conftest import AppFactory
from tests.helpers import World, build_world


@dataclass
class Library:
    app: Flask
    world: World
    #: class mark → category id (the seeded top-level classes: "A" … "Z")
    categories: dict[str, int] = field(default_factory=dict)


def build_library(make_app: AppFactory) -> Library:
    """The ``library`` fixture (declared in tests/conftest.py so integration tests share it)."""
    make_app.set_plugin("library", True)
    app = make_app()
    with app.app_context():
        from unionhub import db
        from unionhub_library.models import LibraryCategory

        world = build_world()
        rows = db.session().execute(select(LibraryCategory.code, LibraryCategory.id))
        categories = {code: id_ for code, id_ in rows}
    return Library(app, world, categories)


def add_book(category_id: int, title: str, *, owner_org_id: int, authors: str = "佚名",
             licence: str = "open", copies: int = 0, state: str = "active",
             **fields: object) -> int:
    """Insert a book row with no files (inside an app context) and return its id."""
    from unionhub import db
    from unionhub_library.models import LibraryBook

    s = db.session()
    book = LibraryBook(category_id=category_id, title=title, authors_display=authors,
                       owner_org_id=owner_org_id, licence=licence, copies=copies, state=state,
                       **fields)
    s.add(book)
    s.commit()
    return book.id
