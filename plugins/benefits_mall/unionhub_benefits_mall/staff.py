"""Merchant staff: an account linked to one merchant (:class:`~.models.BenefitsMallStaff`).

Staff pages check this link, not org roles: a merchant's staff see their own merchant only,
and every query on those pages filters by :func:`current_staff`'s ``merchant_id`` in SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import select

from unionhub import db

from .models import BenefitsMallMerchant, BenefitsMallStaff, MerchantStatus, StaffRole

F = TypeVar("F", bound=Callable[..., Any])


def staff_of(account_id: int) -> BenefitsMallStaff | None:
    return db.session().scalar(
        select(BenefitsMallStaff).where(BenefitsMallStaff.account_id == account_id))


def current_staff() -> BenefitsMallStaff | None:
    """The signed-in account's staff link (cached per request), or None."""
    if not current_user.is_authenticated:
        return None
    if "_mall_staff" not in g:
        g._mall_staff = staff_of(current_user.id)
    return g._mall_staff  # type: ignore[no-any-return]


def staff_required(*, manager: bool = False) -> Callable[[F], F]:
    """Allow only staff of an active merchant (``manager``: only its managers); 403 otherwise."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None or (manager and staff.role != StaffRole.MANAGER):
                abort(403)
            merchant = db.session().get(BenefitsMallMerchant, staff.merchant_id)
            if merchant is None or merchant.status != MerchantStatus.ACTIVE:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
