"""The mobile micro-site (``/portal/m/…``): the portal's content in mobile templates with the
audience rule of the ``mobile`` platform, and the member's 我的 page."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request
from flask_login import current_user

from unionhub import db

from ..models import SectionKind
from ..web import bp, current_viewer
from . import pages, service
from .counter import count_view


@bp.route("/m/")
def m_home() -> Any:
    return pages.cached_home("mobile", lambda: render_template(
        "portal/site/m_home.html", m_tab="home",
        **pages.home_context(db.session(), current_viewer("mobile"))))


@bp.route("/m/sections")
def m_sections() -> Any:
    viewer = current_viewer("mobile")
    sections = service.visible_sections(db.session(), viewer)
    return render_template("portal/site/m_sections.html", m_tab="sections",
                           top=[s for s in sections if s.parent_id is None],
                           sections=sections)


@bp.route("/m/s/<code>")
def m_section(code: str) -> Any:
    s, viewer = db.session(), current_viewer("mobile")
    found = service.section_by_code(s, viewer, code)
    if found is None:
        abort(404)
    target = service.redirect_target(found, mobile=True)
    if target is not None:
        return redirect(target)
    back = (service.section_path(found.parent, mobile=True) if found.parent_id
            else "/portal/m/sections")
    if found.kind == SectionKind.DISCOUNTS:
        return render_template("portal/site/m_discounts.html", m_tab="sections", back_url=back,
                               **pages.discounts_context(s, viewer, found))
    return render_template("portal/site/m_section.html", m_tab="sections", back_url=back,
                           **pages.list_context(s, viewer, found))


@bp.route("/m/a/<key>")
def m_article(key: str) -> Any:
    s, viewer = db.session(), current_viewer("mobile")
    read = service.article_for_page(s, viewer, key)
    if read is None:
        abort(404)
    found = read.article
    view = pages.article_view(s, viewer, read)
    pages.set_head(found, pages.canonical_url(found))
    html = render_template("portal/site/m_article.html", view=view, article=found,
                           section=found.section, m_tab="home",
                           back_url=service.section_path(found.section, mobile=True),
                           viewer=viewer)
    count_view(s, found.id)
    s.commit()
    return html


@bp.route("/m/search")
def m_search() -> Any:
    q = pages.query_text()
    results = pages.search(q, "mobile", service.clamp_page(request.args.get("page", 1)))
    return render_template("portal/site/m_search.html", m_tab="home", back_url="/portal/m/",
                           q=q, results=results, mobile_url=pages.mobile_url)


@bp.route("/m/me")
def m_me() -> Any:
    member = current_user.member if current_user.is_authenticated else None
    return render_template("portal/site/m_me.html", m_tab="me", member=member,
                           account=current_user if current_user.is_authenticated else None)
