"""The contract's tests: the document the app serves against the committed
snapshot (openapi.json), and a client generated from it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from referral_app.openapi_contract import served_document


@pytest.fixture
def served(app: Flask) -> dict[str, Any]:
    return served_document(app)
