"""Serving the OpenAPI description and a self-contained page that renders it (no CDN)."""

from __future__ import annotations

from flask import Response, jsonify, render_template, url_for

from web.api import api
from web.api.openapi import spec


@api.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(spec(url_for("api.openapi_json").rsplit("/", 1)[0]))


@api.get("/docs")
def docs() -> str:
    document = spec(url_for("api.openapi_json").rsplit("/", 1)[0])
    return render_template("api_docs.html", spec=document)
