"""What the browser pages keep for a user between requests: a search by name
(so the name stays out of URLs while Back, refresh and bookmarks still work)
and the forms already sent (so a double click makes one thing)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from referral_app.extensions import Model
from referral_app.models.types import UTCDateTime, new_uuid, utcnow


class SavedSearch(Model):
    """A user's search, stored for a short while: the page's URL carries only
    its random id, which means nothing to anyone else (another user's id is a
    404, an expired one says so)."""

    __tablename__ = "saved_search"
    __table_args__ = (Index("ix_saved_search_expires_at", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<SavedSearch {self.id}>"


class FormSubmission(Model):
    """A form the user has sent, by the one-time token the page gave it, and
    where its result is: the same form sent again (a double click, a resend
    after Back) goes there instead of doing the thing twice."""

    __tablename__ = "form_submission"
    __table_args__ = (UniqueConstraint("user_id", "token"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64))
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<FormSubmission {self.id}>"
