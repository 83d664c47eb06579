"""The union hierarchy as a materialized path: a subtree is one ``path LIKE 'prefix%'``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow


class OrgLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    INDUSTRY = "industry"
    GRASSROOTS = "grassroots"
    BRANCH = "branch"


LEVEL_LABELS = {
    OrgLevel.CITY: "市总",
    OrgLevel.DISTRICT: "区县",
    OrgLevel.INDUSTRY: "产业",
    OrgLevel.GRASSROOTS: "基层",
    OrgLevel.BRANCH: "分会",
}
LEVEL_BY_LABEL = {v: k for k, v in LEVEL_LABELS.items()}

#: Which level may sit under which (city at the root only).
ALLOWED_PARENTS: dict[OrgLevel, tuple[OrgLevel, ...]] = {
    OrgLevel.CITY: (),
    OrgLevel.DISTRICT: (OrgLevel.CITY,),
    OrgLevel.INDUSTRY: (OrgLevel.CITY, OrgLevel.DISTRICT),
    OrgLevel.GRASSROOTS: (OrgLevel.CITY, OrgLevel.DISTRICT, OrgLevel.INDUSTRY),
    OrgLevel.BRANCH: (OrgLevel.GRASSROOTS, OrgLevel.BRANCH),
}


class Org(Base):
    __tablename__ = "org"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org.id", ondelete="RESTRICT"), index=True
    )
    #: "/1/5/23/": ids from the root down to and including this org.
    path: Mapped[str] = mapped_column(String(512), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    agent_office: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Org | None] = relationship(remote_side=[id])

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(OrgLevel(self.level), self.level)

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def __repr__(self) -> str:
        return f"<Org {self.code} {self.name}>"
