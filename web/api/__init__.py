"""The JSON API, ``/api/v1``: uploads, one-study screenings, batch status and results, patients, downloads."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__)

from web.api import batches, dicomweb, docs, downloads, fhir, patients, referrals, screenings, summary  # noqa: E402,F401,E501  (routes register on import)
