"""Official documents (公文): the document, its number counters, distribution list and read
receipts.

A document is numbered only when it is issued: ``seq`` and ``number`` stay NULL until then.
The number's sequence comes from :class:`OaDocNumber` (one row per org, year and type),
incremented in the issuing transaction, so a rolled-back issue gives its number back; the
unique constraints on ``(org_id, year, doc_type, seq)`` and on the number text itself are
the last guards against a duplicate (two orgs with the same 机关代字 would otherwise print
the same 文号).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


@dataclass(frozen=True)
class DocType:
    """A kind of document (文种); ``char`` goes into the number (the 发 of 京工发〔2026〕12号)."""

    code: str
    char: str
    label: str


#: The fixed table of document types, in the order the forms offer them.
DOC_TYPES: dict[str, DocType] = {t.code: t for t in (
    DocType("fa", "发", "下行文"),
    DocType("zi", "字", "函"),
    DocType("ban", "办", "办公室文件"),
)}

#: Optional markings (紧急程度, 密级); empty means none.
URGENCY_LABELS = {"urgent": "加急", "very_urgent": "特急"}
SECRECY_LABELS = {"internal": "内部", "secret": "秘密", "confidential": "机密"}


class DocState(StrEnum):
    DRAFT = "draft"
    REVIEWING = "reviewing"  # an approval is running
    APPROVED = "approved"  # waiting for an officer who may issue it
    ISSUED = "issued"


STATE_LABELS = {"draft": "草稿", "reviewing": "审批中", "approved": "待下发", "issued": "已下发"}


class OaDocument(Base):
    """One official document of a drafting org."""

    __tablename__ = "oa_document"
    __table_args__ = (
        UniqueConstraint("org_id", "year", "doc_type", "seq", name="uq_oa_document_number"),
        UniqueConstraint("number", name="uq_oa_document_number_text"),
        Index("ix_oa_document_state", "state", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The drafting (and issuing) org and its path (scoping).
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    doc_type: Mapped[str] = mapped_column(String(8))
    #: The year of the number (Beijing time at issue); NULL until issued.
    year: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer)
    #: The formatted number (文号), e.g. 京工发〔2026〕12号.
    number: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    #: Sanitised rich text (:mod:`unionhub.web.richtext`).
    body: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(16), default="")
    secrecy: Mapped[str] = mapped_column(String(16), default="")
    state: Mapped[str] = mapped_column(String(16), default=DocState.DRAFT)
    #: The approver's opinion when the approval sent the document back to draft.
    opinion: Mapped[str | None] = mapped_column(Text)
    #: The approval engine's reference of the last submission.
    approval_ref: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                              ondelete="SET NULL"))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def type_label(self) -> str:
        t = DOC_TYPES.get(self.doc_type)
        return t.label if t else self.doc_type

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def urgency_label(self) -> str:
        return URGENCY_LABELS.get(self.urgency, "")

    @property
    def secrecy_label(self) -> str:
        return SECRECY_LABELS.get(self.secrecy, "")


class OaDocNumber(Base):
    """The last sequence number issued per org, year and type. Its row lock serialises
    concurrent issuers of the same org, year and type."""

    __tablename__ = "oa_doc_number"

    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="CASCADE"),
                                        primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class OaDocRecipient(Base):
    """An org on a document's distribution list; ``include_subtree`` sends it to every org
    below as well."""

    __tablename__ = "oa_doc_recipient"

    document_id: Mapped[int] = mapped_column(ForeignKey("oa_document.id", ondelete="CASCADE"),
                                             primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="CASCADE"),
                                        primary_key=True, index=True)
    include_subtree: Mapped[bool] = mapped_column(Boolean, default=False)


class OaDocReceipt(Base):
    """A recipient officer opened the document (first time only)."""

    __tablename__ = "oa_doc_receipt"
    __table_args__ = (UniqueConstraint("document_id", "account_id", name="uq_oa_doc_receipt"),
                      Index("ix_oa_doc_receipt_account", "account_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("oa_document.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


MODELS = (OaDocument, OaDocNumber, OaDocRecipient, OaDocReceipt)
