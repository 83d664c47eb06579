"""The indexing queue: every change to searchable content, written in the changing
transaction and applied to the index by the one writer (:func:`unionhub.search.queue.
process_queue`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


class SearchQueue(Base):
    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(64))
    doc_id: Mapped[str] = mapped_column(String(64))
    #: "upsert" or "delete"; the writer re-reads the row either way.
    op: Mapped[str] = mapped_column(String(8))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
