"""library and museum tables

Revision ID: library_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

# The top-level classes of the Chinese Library Classification (中图法, 5th edition): a copy,
# so that later edits elsewhere do not change what this migration inserted.
CLC_CLASSES = (
    ("A", "马克思主义、列宁主义、毛泽东思想、邓小平理论"),
    ("B", "哲学、宗教"),
    ("C", "社会科学总论"),
    ("D", "政治、法律"),
    ("E", "军事"),
    ("F", "经济"),
    ("G", "文化、科学、教育、体育"),
    ("H", "语言、文字"),
    ("I", "文学"),
    ("J", "艺术"),
    ("K", "历史、地理"),
    ("N", "自然科学总论"),
    ("O", "数理科学和化学"),
    ("P", "天文学、地球科学"),
    ("Q", "生物科学"),
    ("R", "医药、卫生"),
    ("S", "农业科学"),
    ("T", "工业技术"),
    ("U", "交通运输"),
    ("V", "航空、航天"),
    ("X", "环境科学、安全科学"),
    ("Z", "综合性图书"),
)

revision: str = "library_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "library_author",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("book_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_author")),
        sa.UniqueConstraint("name", name=op.f("uq_library_author_name")),
    )
    op.create_table(
        "library_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("book_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["library_category.id"],
            name=op.f("fk_library_category_parent_id_library_category"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_category")),
        sa.UniqueConstraint("code", name=op.f("uq_library_category_code")),
    )
    with op.batch_alter_table("library_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_category_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "library_museum_exhibition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subtitle", sa.String(length=200), nullable=True),
        sa.Column("intro_html", sa.Text(), nullable=False),
        sa.Column("cover_item_id", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["org.id"],
            name=op.f("fk_library_museum_exhibition_owner_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_museum_exhibition")),
        sa.UniqueConstraint("slug", name=op.f("uq_library_museum_exhibition_slug")),
    )
    with op.batch_alter_table("library_museum_exhibition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_museum_exhibition_owner_org_id"), ["owner_org_id"], unique=False
        )

    op.create_table(
        "library_museum_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exhibition_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("intro_html", sa.Text(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exhibition_id"],
            ["library_museum_exhibition.id"],
            name=op.f("fk_library_museum_section_exhibition_id_library_museum_exhibition"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_museum_section")),
    )
    with op.batch_alter_table("library_museum_section", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_museum_section_exhibition_id"), ["exhibition_id"], unique=False
        )

    op.create_table(
        "library_app_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_library_app_token_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_app_token")),
        sa.UniqueConstraint("prefix", name=op.f("uq_library_app_token_prefix")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_library_app_token_token_hash")),
    )
    with op.batch_alter_table("library_app_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_app_token_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "library_book",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("subtitle", sa.String(length=300), nullable=True),
        sa.Column("authors_display", sa.String(length=300), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("isbn", sa.String(length=13), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("tags", sa.String(length=300), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("cover_name", sa.String(length=48), nullable=True),
        sa.Column("thumb_name", sa.String(length=48), nullable=True),
        sa.Column("licence", sa.String(length=8), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("copies_out", sa.Integer(), nullable=False),
        sa.Column("loan_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["library_category.id"],
            name=op.f("fk_library_book_category_id_library_category"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_library_book_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["org.id"],
            name=op.f("fk_library_book_owner_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_book")),
        sa.UniqueConstraint("isbn", name=op.f("uq_library_book_isbn")),
    )
    with op.batch_alter_table("library_book", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_book_category", ["category_id", "state", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_library_book_new", ["state", "created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_library_book_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(
            "ix_library_book_popular", ["state", "read_count", "id"], unique=False
        )

    op.create_table(
        "library_museum_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("dc", sa.JSON(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("media_name", sa.String(length=48), nullable=True),
        sa.Column("media_type", sa.String(length=60), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["library_museum_section.id"],
            name=op.f("fk_library_museum_item_section_id_library_museum_section"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_museum_item")),
    )
    with op.batch_alter_table("library_museum_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_museum_item_section_id"), ["section_id"], unique=False
        )

    op.create_table(
        "library_shelf",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_library_shelf_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_shelf")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_library_shelf_account_id")),
    )
    with op.batch_alter_table("library_shelf", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_shelf_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "library_book_author",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["library_author.id"],
            name=op.f("fk_library_book_author_author_id_library_author"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_book_author_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "author_id", name=op.f("pk_library_book_author")),
    )
    with op.batch_alter_table("library_book_author", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_book_author_author", ["author_id", "book_id"], unique=False
        )

    op.create_table(
        "library_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("stored_name", sa.String(length=48), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_file_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_file")),
        sa.UniqueConstraint("book_id", "format", name=op.f("uq_library_file_book_id")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_library_file_stored_name")),
    )
    with op.batch_alter_table("library_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_file_sha256"), ["sha256"], unique=False)

    op.create_table(
        "library_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_library_hold_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_hold_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_hold")),
    )
    with op.batch_alter_table("library_hold", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_hold_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_library_hold_queue", ["book_id", "state", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_library_hold_open",
            ["account_id", "book_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('waiting', 'notified')"),
            postgresql_where=sa.text("state IN ('waiting', 'notified')"),
        )

    op.create_table(
        "library_loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("borrowed_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_library_loan_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_loan_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_library_loan_org_id_org"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_loan")),
    )
    with op.batch_alter_table("library_loan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_loan_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index("ix_library_loan_book", ["book_id", "state"], unique=False)
        batch_op.create_index("ix_library_loan_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            "uq_library_loan_active",
            ["account_id", "book_id"],
            unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )

    op.create_table(
        "library_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("offset", sa.Double(), nullable=False),
        sa.Column("percent", sa.Double(), nullable=False),
        sa.Column("device", sa.String(length=60), nullable=True),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_library_progress_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_progress_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_progress")),
        sa.UniqueConstraint("account_id", "book_id", name=op.f("uq_library_progress_account_id")),
    )
    with op.batch_alter_table("library_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_progress_book_id"), ["book_id"], unique=False)
        batch_op.create_index(
            "ix_library_progress_recent", ["account_id", "updated_at"], unique=False
        )

    op.create_table(
        "library_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("read_on", sa.Date(), nullable=False),
        sa.Column("device", sa.String(length=60), nullable=True),
        sa.Column("last_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_library_read_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_read_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_library_read_org_id_org"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_read")),
        sa.UniqueConstraint(
            "account_id", "book_id", "read_on", name=op.f("uq_library_read_account_id")
        ),
    )
    with op.batch_alter_table("library_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_read_book_id"), ["book_id"], unique=False)
        batch_op.create_index("ix_library_read_day", ["read_on", "org_id"], unique=False)
        batch_op.create_index("ix_library_read_history", ["account_id", "last_at"], unique=False)

    op.create_table(
        "library_shelf_item",
        sa.Column("shelf_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("added_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["library_book.id"],
            name=op.f("fk_library_shelf_item_book_id_library_book"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shelf_id"],
            ["library_shelf.id"],
            name=op.f("fk_library_shelf_item_shelf_id_library_shelf"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shelf_id", "book_id", name=op.f("pk_library_shelf_item")),
    )
    with op.batch_alter_table("library_shelf_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_shelf_item_book_id"), ["book_id"], unique=False
        )

    category = sa.table(
        "library_category",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("sort", sa.Integer),
        sa.column("book_count", sa.Integer),
    )
    op.bulk_insert(
        category,
        [
            {"code": code, "name": name, "sort": i, "book_count": 0}
            for i, (code, name) in enumerate(CLC_CLASSES)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("library_shelf_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_shelf_item_book_id"))

    op.drop_table("library_shelf_item")
    with op.batch_alter_table("library_read", schema=None) as batch_op:
        batch_op.drop_index("ix_library_read_history")
        batch_op.drop_index("ix_library_read_day")
        batch_op.drop_index(batch_op.f("ix_library_read_book_id"))

    op.drop_table("library_read")
    with op.batch_alter_table("library_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_library_progress_recent")
        batch_op.drop_index(batch_op.f("ix_library_progress_book_id"))

    op.drop_table("library_progress")
    with op.batch_alter_table("library_loan", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_library_loan_active",
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )
        batch_op.drop_index("ix_library_loan_due")
        batch_op.drop_index("ix_library_loan_book")
        batch_op.drop_index(batch_op.f("ix_library_loan_account_id"))

    op.drop_table("library_loan")
    with op.batch_alter_table("library_hold", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_library_hold_open",
            sqlite_where=sa.text("state IN ('waiting', 'notified')"),
            postgresql_where=sa.text("state IN ('waiting', 'notified')"),
        )
        batch_op.drop_index("ix_library_hold_queue")
        batch_op.drop_index(batch_op.f("ix_library_hold_account_id"))

    op.drop_table("library_hold")
    with op.batch_alter_table("library_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_file_sha256"))

    op.drop_table("library_file")
    with op.batch_alter_table("library_book_author", schema=None) as batch_op:
        batch_op.drop_index("ix_library_book_author_author")

    op.drop_table("library_book_author")
    with op.batch_alter_table("library_shelf", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_shelf_account_id"))

    op.drop_table("library_shelf")
    with op.batch_alter_table("library_museum_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_museum_item_section_id"))

    op.drop_table("library_museum_item")
    with op.batch_alter_table("library_book", schema=None) as batch_op:
        batch_op.drop_index("ix_library_book_popular")
        batch_op.drop_index(batch_op.f("ix_library_book_owner_org_id"))
        batch_op.drop_index("ix_library_book_new")
        batch_op.drop_index("ix_library_book_category")

    op.drop_table("library_book")
    with op.batch_alter_table("library_app_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_app_token_account_id"))

    op.drop_table("library_app_token")
    with op.batch_alter_table("library_museum_section", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_museum_section_exhibition_id"))

    op.drop_table("library_museum_section")
    with op.batch_alter_table("library_museum_exhibition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_museum_exhibition_owner_org_id"))

    op.drop_table("library_museum_exhibition")
    with op.batch_alter_table("library_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_category_parent_id"))

    op.drop_table("library_category")
    op.drop_table("library_author")
