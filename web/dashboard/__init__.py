"""Server-rendered pages for hospital staff, health officials and admins."""

from __future__ import annotations

from flask import Blueprint

dashboard = Blueprint("dashboard", __name__)

from web.dashboard import account, admin, batches, login, operating_points, overview, patients, referrals  # noqa: E402,F401  (routes register on import)
