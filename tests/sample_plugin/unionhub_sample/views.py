from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from pydantic import BaseModel
from sqlalchemy import func, select

from unionhub import db
from unionhub.access.service import can
from unionhub.api import PAGE_PARAMS, Page, operation, paginate
from unionhub.settings import service as settings
from unionhub_sample.models import SampleNote

web = Blueprint("sample", __name__, template_folder="templates")
api = Blueprint("sample_api", __name__)


@web.route("/", methods=["GET", "POST"])
@login_required
def index() -> Any:
    s = db.session()
    if request.method == "POST":
        if not can(current_user, "sample.notes.write") or current_user.member is None:
            abort(403)
        count = s.scalar(select(func.count()).where(
            SampleNote.member_id == current_user.member_id)) or 0
        if count >= settings.get("sample.max_notes", current_user.member.org_id):
            abort(429)
        s.add(SampleNote(member_id=current_user.member_id, text=request.form["text"][:500]))
        s.commit()
    notes = s.scalars(select(SampleNote).where(SampleNote.member_id == current_user.member_id))
    return render_template("sample/page.html", notes=list(notes),
                           greeting=settings.get("sample.greeting"))


class Pong(BaseModel):
    ok: bool


class NoteOut(BaseModel):
    id: int
    text: str


@api.route("/ping")
@operation("示例：探活", tags=["sample"], response=Pong, auth=False)
def ping() -> Pong:
    return Pong(ok=True)


@api.route("/notes")
@operation("示例：我的笔记（分页）", tags=["sample"], response=Page[NoteOut],
           params=PAGE_PARAMS)
def notes() -> Any:
    stmt = select(SampleNote).where(SampleNote.member_id == current_user.member_id)
    return paginate(stmt.order_by(SampleNote.id), lambda n: NoteOut(id=n.id, text=n.text))
