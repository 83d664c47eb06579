"""The plugin's blueprints; feature view modules add their routes to these.

``bp`` is the web surface (``/mutualaid``: members, clerks and officers — the pages are
responsive, so the mobile site is the same pages), ``api`` the mobile-app API
(``/api/v1/mutualaid``).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mutualaid", __name__, template_folder="templates")
api = Blueprint("mutualaid_api", __name__)
