"""The demo's catalogue: every planned book made into a real file (an EPUB 3 or EPUB 2 with a
drawn cover, or now and then a plain-text edition) and catalogued through the catalogue's own
:func:`~unionhub_library.catalogue.ingest.ingest_bytes` — so the files, covers, authors,
counts, search queue and thumbnail jobs are what an officer's uploads would produce. Then
the books' dates are spread over the last two years so that "new books" has an order."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..catalogue.ingest import ingest_bytes
from ..catalogue.service import set_cover
from ..epubgen import isbn13, make_cover_png, make_epub
from ..models import LibraryBook, LibraryCategory, LibraryFile
from ..reader.files import total as file_total
from .writer import BookPlan, as_text

COVER_SIZE = (300, 400)
CITY = "110000"
#: Unions that add a share of the books themselves (their officer is the uploader).
LOCAL_OWNERS = {"110105": "chaoyang", "119001": "jiaotong", "110108": "haidian"}


@dataclass(frozen=True)
class DemoBook:
    """What the reading history needs to know of a catalogued book."""

    id: int
    code: str
    licence: str
    copies: int
    loan_days: int
    format: str
    #: Chapters (EPUB) or pages (TXT): positions a reader can be at.
    positions: int
    created_at: datetime


def book_file(plan: BookPlan) -> tuple[bytes, str, bytes]:
    """(file, file name, cover PNG) of one planned book."""
    cover = make_cover_png(plan.title, "、".join(plan.authors), width=COVER_SIZE[0],
                           height=COVER_SIZE[1], hue=plan.hue, compress_level=1)
    if plan.format == "txt":
        return as_text(plan).encode("utf-8"), f"{plan.title}.txt", cover
    data = make_epub(plan.title, plan.authors, plan.chapters, cover_png=cover,
                     epub_version=plan.epub_version, isbn=isbn13(plan.isbn_number),
                     publisher=plan.publisher, description=plan.summary,
                     subjects=plan.tags + plan.subjects, year=plan.year)
    return data, f"{plan.title}.epub", cover


def _owner(ctx: Any, rng: random.Random) -> tuple[int, int | None]:
    """(owner org id, uploading account id): mostly the city federation's librarian."""
    officers = getattr(ctx, "officers", {}) or {}
    orgs = ctx.orgs
    if rng.random() < 0.2:
        code = rng.choice(sorted(LOCAL_OWNERS))
        if code in orgs:
            officer = officers.get(LOCAL_OWNERS[code])
            return orgs[code].id, getattr(officer, "id", None)
    root = orgs.get(CITY) or min(orgs.values(), key=lambda o: (o.depth, o.id))
    officer = officers.get("city") or officers.get("admin")
    return root.id, getattr(officer, "id", None)


def add_books(session: Session, ctx: Any, rng: random.Random, plans: list[BookPlan],
              now: datetime) -> list[DemoBook]:
    """Catalogue ``plans`` and return the books, oldest first."""
    categories = dict(session.execute(
        select(LibraryCategory.code, LibraryCategory.id)
        .where(LibraryCategory.parent_id.is_(None))).all())
    added: list[tuple[BookPlan, LibraryBook]] = []
    for plan in plans:
        category_id = categories.get(plan.code)
        if category_id is None:  # a class an admin removed: the book is not made
            continue
        data, filename, cover = book_file(plan)
        owner_id, account_id = _owner(ctx, rng)
        overrides: dict[str, Any] = {}
        if plan.format == "txt":  # a text file says nothing about itself
            overrides = {"title": plan.title, "authors": plan.authors,
                         "publisher": plan.publisher, "year": plan.year,
                         "isbn": isbn13(plan.isbn_number), "summary": plan.summary,
                         "tags": plan.tags}
        book = ingest_bytes(session, data, filename, owner_org_id=owner_id,
                            account_id=account_id, category_id=category_id,
                            overrides=overrides, licence=plan.licence, copies=plan.copies)
        if not book.cover_name:
            set_cover(session, book, cover)
        added.append((plan, book))

    # Spread the books over the last two years (more of them recent), oldest first by id.
    ages = sorted((rng.random() ** 1.6 * 730 for _ in added), reverse=True)
    dated = []
    for (_plan, book), age in zip(added, ages, strict=True):
        when = now - timedelta(days=age, hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
        dated.append({"id": book.id, "created_at": when, "updated_at": when})
    if dated:
        session.execute(update(LibraryBook), dated)
    positions = {f.book_id: file_total(f) for f in session.scalars(
        select(LibraryFile).where(LibraryFile.book_id.in_([b.id for _p, b in added])))}
    out = [DemoBook(book.id, plan.code, book.licence, book.copies, book.loan_days,
                    plan.format, max(positions.get(book.id, 1), 1), row["created_at"])
           for (plan, book), row in zip(added, dated, strict=True)]
    session.expire_all()
    return out
