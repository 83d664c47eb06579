from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from unionhub import db
from unionhub.access.service import can
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
        if count >= settings.get("sample.max_notes"):
            abort(429)
        s.add(SampleNote(member_id=current_user.member_id, text=request.form["text"][:500]))
        s.commit()
    notes = s.scalars(select(SampleNote).where(SampleNote.member_id == current_user.member_id))
    return render_template("sample/page.html", notes=list(notes),
                           greeting=settings.get("sample.greeting"))


@api.route("/ping")
def ping() -> Any:
    return jsonify(ok=True)
