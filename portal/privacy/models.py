"""Consents to personal data processing (152-ФЗ art. 9): versioned texts and their acceptances."""

import enum
import hashlib
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db


class ConsentPurpose(enum.StrEnum):
    """What a text is for. Each purpose is its own document, accepted on its own."""

    APPLICATION = "application"  # reviewing a partner application
    PORTAL = "portal"  # using the portal: required of every customer user
    PROMOTIONS = "promotions"  # e-mail promotions and news: optional, never required
    POLICY = "policy"  # the operator's published policy (art. 18.1): read, never accepted

    @property
    def label(self):
        return {
            ConsentPurpose.APPLICATION: _l("Consent to processing for reviewing an application"),
            ConsentPurpose.PORTAL: _l("Consent to processing for using the portal"),
            ConsentPurpose.PROMOTIONS: _l("Consent to e-mail promotions and news"),
            ConsentPurpose.POLICY: _l("Personal data processing policy"),
        }[self]

    @property
    def is_consent(self) -> bool:
        return self is not ConsentPurpose.POLICY


def text_digest(text: str) -> str:
    """SHA-256 of the text as published (UTF-8): shows later which words were agreed to."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConsentVersion(db.Model):
    """One published version of a consent text or of the policy; the newest one is current."""

    __tablename__ = "consent_versions"
    __table_args__ = (
        UniqueConstraint("purpose", "number"),
        Index("ix_consent_versions_purpose_published", "purpose", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    published_by = relationship("User")

    @property
    def purpose_enum(self) -> ConsentPurpose:
        return ConsentPurpose(self.purpose)


class ConsentAcceptance(db.Model):
    """A consent given: by a user, or with a partner application before any account exists.

    Kept after withdrawal (withdrawn_at set): the operator must show when consent was given
    and when it ended.
    """

    __tablename__ = "consent_acceptances"
    __table_args__ = (
        CheckConstraint(
            "user_id IS NOT NULL OR application_id IS NOT NULL",
            name="subject",
        ),
        Index("ix_consent_acceptances_user_purpose", "user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    version_id: Mapped[int] = mapped_column(ForeignKey("consent_versions.id"))
    digest: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version = relationship("ConsentVersion", lazy="joined")
    user = relationship("User")
    # application.consents: the applicant's consent, shown to the reviewing manager. Deleted with
    # the application (by the ORM, and by the database's ON DELETE CASCADE for bulk deletes).
    application = relationship(
        "Application",
        backref=backref("consents", cascade="all, delete-orphan", order_by="ConsentAcceptance.id"),
    )

    @property
    def purpose_enum(self) -> ConsentPurpose:
        return ConsentPurpose(self.purpose)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
