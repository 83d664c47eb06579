"""Offers from plugins (京卡优惠): member discounts that one plugin provides (the welfare mall)
and others list (the portal's Jingka discount section, home-page slots), without either
plugin importing the other. See :func:`unionhub.offers.service.offers_for`."""

from unionhub.offers.types import OfferCard, OfferProvider

__all__ = ["OfferCard", "OfferProvider"]
