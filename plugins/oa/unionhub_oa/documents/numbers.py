"""Document numbers (文号): one sequence per org, year and type, with no gaps or duplicates.

:func:`next_seq` runs inside the issuing transaction: it makes sure the counter row exists
(``INSERT … ON CONFLICT DO NOTHING``), then ``UPDATE … SET last = last + 1 … RETURNING last``.
The UPDATE takes the row's lock, so concurrent issuers of the same org, year and type queue
behind each other until the holder commits or rolls back; a rolled-back issue rolls the
increment back with it, so the next issuer gets the same number (no gap).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from unionhub.notify.service import dialect_insert

from .models import DOC_TYPES, OaDocNumber


def next_seq(session: Session, org_id: int, year: int, doc_type: str) -> int:
    """Take the next sequence number of (org, year, type); holds the counter's row lock
    until the caller's transaction ends."""
    if doc_type not in DOC_TYPES:
        raise ValueError(f"unknown document type {doc_type!r}")
    session.execute(
        dialect_insert(session, OaDocNumber)
        .values(org_id=org_id, year=year, doc_type=doc_type, last=0)
        .on_conflict_do_nothing(index_elements=["org_id", "year", "doc_type"]))
    seq = session.execute(
        update(OaDocNumber)
        .where(OaDocNumber.org_id == org_id, OaDocNumber.year == year,
               OaDocNumber.doc_type == doc_type)
        .values(last=OaDocNumber.last + 1)
        .returning(OaDocNumber.last)
        .execution_options(synchronize_session=False)).scalar_one()
    return int(seq)


def format_number(prefix: str, doc_type: str, year: int, seq: int) -> str:
    """``京工`` + ``发`` + ``〔2026〕`` + ``12号``."""
    return f"{prefix}{DOC_TYPES[doc_type].char}〔{year}〕{seq}号"
