"""The chronology's tests share one world: tests/chronology/world.py."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.chronology.world import Child, build
from tests.factories import Factory


@pytest.fixture
def child(app: Flask, client: FlaskClient, factory: Factory) -> Child:
    return build(app, client, factory)
