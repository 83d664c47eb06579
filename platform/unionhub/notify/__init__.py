"""Notifications: in-site inbox, WeChat template messages, SMS and e-mail, through one outbox.

Plugins declare types with :class:`unionhub.notify.types.NotificationType` and send with
``unionhub.notify.send(session, "<plugin>.<key>", member_ids_or_query, context, batch_key)``
— rows are queued in the caller's transaction and delivered by the ``core.notify_dispatch``
job after the commit. This module stays light: plugins import it at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from unionhub.notify.types import ChannelSpec, Message, NotificationType, Template

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["ChannelSpec", "Message", "NotificationType", "Template", "init_notify", "send"]


def send(*args: Any, **kwargs: Any) -> Any:
    from unionhub.notify.service import send as _send

    return _send(*args, **kwargs)


def init_notify(app: Flask,
                extra_types: Iterable[tuple[str, NotificationType]] = (),
                extra_channels: Iterable[tuple[str, ChannelSpec]] = ()) -> None:
    """Build the notification registry from the hooks' contributions (plus ``extra_*``
    pairs of (plugin, spec), for tests and tools) and the template helpers."""
    from unionhub.notify.registry import build

    services = app.extensions["unionhub"].registries.services
    app.extensions["notify"] = build(services, extra_types, extra_channels)

    def notify_unread() -> int:
        from flask_login import current_user

        from unionhub import db
        from unionhub.notify.service import unread_count

        if not current_user.is_authenticated or current_user.member_id is None:
            return 0
        return unread_count(db.session(), current_user.member_id)

    app.jinja_env.globals["notify_unread"] = notify_unread
