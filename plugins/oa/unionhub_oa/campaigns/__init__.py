"""OA: notification campaigns (通知群发) — an officer picks an audience (an org subtree, the
members of a mutual-aid program, the members a data-exchange run touched: any source of the
core's ``unionhub_audiences`` hook), a template, the channels (WeChat, SMS, e-mail; the inbox
always), previews the head count and sends once through the core's notifications; the
campaign page shows the delivery by channel and status, the quota used today and the
members who fell back from WeChat to SMS.

Every audience is narrowed in SQL to active members of the campaign's own org subtree that
also lie in the sending officer's scope (:func:`.service.audience`): a campaign drafted by a
district reaches only that district's members, whoever sends it. Public entry points:
:mod:`.service` (``preview_count``, ``send``, ``progress``, ``create_template``),
:mod:`.audiences` (``own_sources``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_oa.features import Feature


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


def _notification_types() -> Sequence[Any]:
    from .notices import TYPES

    return TYPES


FEATURE = Feature(
    name="campaigns",
    views=("unionhub_oa.campaigns.views",),
    models=_models,
    nav=(
        NavItem("officer", "oa_campaigns", "通知群发", "oa.campaigns",
                permission="oa.campaigns.manage", priority=40),
    ),
    notification_types=_notification_types,
)
