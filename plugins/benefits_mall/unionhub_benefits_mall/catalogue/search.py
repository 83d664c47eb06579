"""Offers in the core search (tab 福利优惠), with the same audience rule as the listings.

An offer's document is ``published`` only while it is approved and its merchant active; its
validity becomes the document's window (from 00:00 Beijing on ``valid_from`` to the end of
``valid_until``), checked at query time. The audience becomes access tokens: none → public
(what an anonymous visitor's listing shows too); org rows → one token per org (members of the
subtree hold it); group rows → one per group; both kinds → one per (org, group) pair, which a
member holds only when both match — exactly :func:`..eligibility.audience_clause`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from itertools import product

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.search import acl
from unionhub.search.types import PUBLISHED, SearchDocument, SearchIndexer

from ..models import (
    BenefitsMallAudience,
    BenefitsMallOffer,
    BenefitsMallOfferStore,
    BenefitsMallStore,
    MerchantStatus,
    OfferStatus,
)
from .service import KIND_LABELS, OFFER_DOC, day_start
from .text import html_to_text

BATCH = 500


def offer_acl(org_ids: Sequence[int], group_ids: Sequence[int]) -> tuple[str, ...]:
    if org_ids and group_ids:
        return acl.audience(acl.org_group_token(o, g) for o, g in product(org_ids, group_ids))
    if org_ids:
        return acl.audience(acl.org_token(o) for o in org_ids)
    if group_ids:
        return acl.audience(acl.group_token(g) for g in group_ids)
    return (acl.PUBLIC,)


def offer_status(offer: BenefitsMallOffer) -> str:
    if offer.status == OfferStatus.APPROVED:
        return PUBLISHED if offer.merchant.status == MerchantStatus.ACTIVE else "suspended"
    return str(offer.status)


def offer_document(offer: BenefitsMallOffer, org_ids: Sequence[int], group_ids: Sequence[int],
                   stores: Sequence[str]) -> SearchDocument:
    parts = [offer.merchant.name, offer.category.name, KIND_LABELS.get(offer.kind, offer.kind)]
    if offer.summary:
        parts.append(offer.summary)
    if stores:
        parts.append("、".join(stores))
    body = " · ".join(parts) + "\n" + html_to_text(offer.description)
    return SearchDocument(
        doc_id=str(offer.id),
        title=offer.title,
        url=f"/benefits_mall/offers/{offer.id}",
        acl=offer_acl(org_ids, group_ids),
        body=body[:5000],
        status=offer_status(offer),
        published_at=day_start(offer.valid_from),
        expires_at=day_start(offer.valid_until + timedelta(days=1)),
        updated_at=offer.updated_at,
        tags=(f"category:{offer.category_code}", f"kind:{offer.kind}"),
    )


def _documents_for(session: Session, ids: Sequence[int]) -> Iterator[SearchDocument]:
    offers = list(session.scalars(select(BenefitsMallOffer).where(BenefitsMallOffer.id.in_(ids))
                                  .order_by(BenefitsMallOffer.id)))
    if not offers:
        return
    orgs: dict[int, list[int]] = {}
    groups: dict[int, list[int]] = {}
    for owner, org_id, group_id in session.execute(
            select(BenefitsMallAudience.owner_id, BenefitsMallAudience.org_id,
                   BenefitsMallAudience.group_id)
            .where(BenefitsMallAudience.owner_kind == "offer",
                   BenefitsMallAudience.owner_id.in_(ids))):
        if org_id is not None:
            orgs.setdefault(owner, []).append(org_id)
        if group_id is not None:
            groups.setdefault(owner, []).append(group_id)
    merchant_ids = {o.merchant_id for o in offers}
    listed: dict[int, set[int]] = {}
    for offer_id, store_id in session.execute(
            select(BenefitsMallOfferStore.offer_id, BenefitsMallOfferStore.store_id)
            .where(BenefitsMallOfferStore.offer_id.in_(ids))):
        listed.setdefault(offer_id, set()).add(store_id)
    stores: dict[int, list[tuple[int, str]]] = {}
    for store in session.scalars(select(BenefitsMallStore).where(
            BenefitsMallStore.merchant_id.in_(merchant_ids), BenefitsMallStore.active.is_(True))
            .order_by(BenefitsMallStore.id)):
        stores.setdefault(store.merchant_id, []).append(
            (store.id, f"{store.name}（{store.district}）" if store.district else store.name))
    for offer in offers:
        chosen = listed.get(offer.id)
        names = [name for sid, name in stores.get(offer.merchant_id, [])
                 if chosen is None or sid in chosen]
        yield offer_document(offer, sorted(orgs.get(offer.id, [])),
                             sorted(groups.get(offer.id, [])), names)


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    """Every offer (``ids`` None) or the listed ones that still exist, in batches."""
    if ids is None:
        wanted = list(session.scalars(select(BenefitsMallOffer.id).order_by(BenefitsMallOffer.id)))
    else:
        wanted = sorted({int(i) for i in ids if i.isdigit() and len(i) <= 9})
    for start in range(0, len(wanted), BATCH):
        yield from _documents_for(session, wanted[start:start + BATCH])


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(BenefitsMallOffer.id))) or 0)


def indexers() -> list[SearchIndexer]:
    return [SearchIndexer(OFFER_DOC, "福利优惠", documents, count=count, priority=40)]
