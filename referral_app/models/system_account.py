"""system_account models (being written)."""

from __future__ import annotations
