"""Liveness and readiness, for load balancers and orchestrators."""

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from referral_app.extensions import db

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Response:
    """Alive: answers without touching the database."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    """Ready: the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
