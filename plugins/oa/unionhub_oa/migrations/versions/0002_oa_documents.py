"""oa: official documents (documents, number counters, distribution lists, read receipts)

Revision ID: 0002_oa_documents
Revises: 0001_oa
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0002_oa_documents"
down_revision: str | None = "0001_oa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oa_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("doc_type", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("secrecy", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("approval_ref", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issued_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_oa_document_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"],
            ["account.id"],
            name=op.f("fk_oa_document_issued_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_oa_document_org_id_org"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_document")),
        sa.UniqueConstraint("org_id", "year", "doc_type", "seq", name="uq_oa_document_number"),
        sa.UniqueConstraint("number", name="uq_oa_document_number_text"),
    )
    with op.batch_alter_table("oa_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oa_document_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oa_document_org_path"), ["org_path"], unique=False)
        batch_op.create_index("ix_oa_document_state", ["state", "issued_at"], unique=False)

    op.create_table(
        "oa_doc_number",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_oa_doc_number_org_id_org"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "year", "doc_type", name=op.f("pk_oa_doc_number")),
    )

    op.create_table(
        "oa_doc_recipient",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("include_subtree", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["oa_document.id"],
            name=op.f("fk_oa_doc_recipient_document_id_oa_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_oa_doc_recipient_org_id_org"),
            ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "org_id", name=op.f("pk_oa_doc_recipient")),
    )
    with op.batch_alter_table("oa_doc_recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oa_doc_recipient_org_id"), ["org_id"],
                              unique=False)

    op.create_table(
        "oa_doc_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("read_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_oa_doc_receipt_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["oa_document.id"],
            name=op.f("fk_oa_doc_receipt_document_id_oa_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_doc_receipt")),
        sa.UniqueConstraint("document_id", "account_id", name="uq_oa_doc_receipt"),
    )
    with op.batch_alter_table("oa_doc_receipt", schema=None) as batch_op:
        batch_op.create_index("ix_oa_doc_receipt_account", ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oa_doc_receipt", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_doc_receipt_account")

    op.drop_table("oa_doc_receipt")
    with op.batch_alter_table("oa_doc_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oa_doc_recipient_org_id"))

    op.drop_table("oa_doc_recipient")
    op.drop_table("oa_doc_number")
    with op.batch_alter_table("oa_document", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_document_state")
        batch_op.drop_index(batch_op.f("ix_oa_document_org_path"))
        batch_op.drop_index(batch_op.f("ix_oa_document_org_id"))

    op.drop_table("oa_document")
