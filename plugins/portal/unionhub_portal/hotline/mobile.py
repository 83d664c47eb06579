"""The hotline on the mobile micro-site (``/portal/m/hotline…``): published Q&As (the ``qa``
section links here), asking, my questions — the same rules as the PC pages
(:mod:`.views`), in the micro-site's templates."""

from __future__ import annotations

from typing import Any

from flask_login import login_required

from ..web import bp
from .views import ask_page, my_list, my_one, public_list, public_one, rate_action

TEMPLATES = "portal/hotline/m"


@bp.route("/m/hotline")
def m_hotline() -> Any:
    return public_list(f"{TEMPLATES}/list.html", m_tab="hotline")


@bp.route("/m/hotline/<int:question_id>")
def m_hotline_qa(question_id: int) -> Any:
    return public_one(f"{TEMPLATES}/qa.html", question_id, m_tab="hotline")


@bp.route("/m/hotline/ask", methods=["GET", "POST"])
@login_required
def m_hotline_ask() -> Any:
    return ask_page(f"{TEMPLATES}/ask.html", "mobile", ".m_hotline_mine", m_tab="hotline")


@bp.route("/m/hotline/my")
@login_required
def m_hotline_my() -> Any:
    return my_list(f"{TEMPLATES}/my.html", m_tab="me")


@bp.route("/m/hotline/my/<int:question_id>")
@login_required
def m_hotline_mine(question_id: int) -> Any:
    return my_one(f"{TEMPLATES}/mine.html", question_id, m_tab="me")


@bp.route("/m/hotline/my/<int:question_id>/rate", methods=["POST"])
@login_required
def m_hotline_rate(question_id: int) -> Any:
    return rate_action(question_id, ".m_hotline_mine")
