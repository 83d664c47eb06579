"""Attachments on the mobile-app API: the file of an article the app's viewer may read now
(``/api/v1/portal/attachments/<id>``; signed in by bearer token, or anonymous for public
articles) — the same audience rule as the web download, on the ``app`` platform."""

from __future__ import annotations

from typing import Any

from unionhub import db
from unionhub.api import ApiError, operation

from ..audience import can_read
from ..models import PortalAttachment
from ..web import api, current_viewer
from .views import serve


@api.route("/attachments/<int:attachment_id>")
@operation("门户：下载文章的附件或图片（与文章相同的可见范围）", tags=["portal"], response=bytes,
           auth=False)
def api_attachment(attachment_id: int) -> Any:
    s = db.session()
    att = s.get(PortalAttachment, attachment_id)
    if att is None or not can_read(s, att.article_id, current_viewer("app")):
        raise ApiError(404, "not_found", "附件不存在或无权查看")
    return serve(att, counted=True)
