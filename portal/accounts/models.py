import enum
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, Text, false, func, true
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship, validates

from portal.database import Timestamped, UTCDateTime, utcnow
from portal.extensions import db

# Argon2id: memory-hard, the OWASP-recommended scheme for password storage.
password_hasher = PasswordHasher()


class StaffRole(enum.StrEnum):
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self):
        return {StaffRole.MANAGER: _l("Account manager"), StaffRole.ADMIN: _l("Administrator")}[
            self
        ]


class User(UserMixin, Timestamped, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # One-time access code issued in person by a manager (hashed, expiring).
    access_code_hash: Mapped[str | None] = mapped_column(String(255))
    access_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_flag: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    staff_role: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5), default="ru")
    # Changing the session token logs the user out everywhere (sessions and remember-me).
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # Unread notices, read with the user at the start of a request (see load_user); else None.
    unread_notifications: Mapped[int | None] = query_expression()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional second factor for staff (RFC 6238 TOTP); the last used time step blocks replays.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column()
    # Wrong second-factor codes, counted in the database (never in the client's session):
    # after LOGIN_MAX_FAILURES within LOGIN_LOCK_MINUTES the code step is paused.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    totp_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notify_order_status: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_request_answers: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_reading_reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_payment_reminders: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    notify_news: Mapped[bool] = mapped_column(Boolean, default=False)

    memberships = relationship(
        "Membership", back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self):
        return f"<User {self.login}>"

    @validates("email")
    def _normalise_email(self, _key, value):
        """E-mail addresses are kept trimmed and in lower case (the database also refuses two
        that differ only in case: uq_users_email_lower)."""
        return normalise_email(value)

    # Flask-Login
    @property
    def is_active(self):
        return self.is_active_flag

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.staff_role in (StaffRole.MANAGER, StaffRole.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.staff_role == StaffRole.ADMIN

    @property
    def active_memberships(self):
        return [m for m in self.memberships if not m.is_blocked and m.organisation.is_active]

    def set_password(self, password: str) -> None:
        self.password_hash = password_hasher.hash(password)
        self.access_code_hash = None
        self.access_code_expires_at = None
        self.must_change_password = False

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        try:
            return password_hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def check_access_code(self, code: str) -> bool:
        if not self.access_code_hash or not self.access_code_expires_at:
            return False
        if self.access_code_expires_at < utcnow():
            return False
        try:
            return password_hasher.verify(self.access_code_hash, code)
        except (VerificationError, InvalidHashError):
            return False

    def rotate_session_token(self) -> None:
        self.session_token = secrets.token_hex(16)


def normalise_email(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


# One account per e-mail address whatever its case, enforced by the database (SQLite and
# PostgreSQL both index the expression).
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class LoginAttempt(db.Model):
    """Every login attempt, for throttling per account and for the security audit."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_login_key_at", "login_key", "at"),
        # Failures are counted per account, whatever identifier was typed.
        Index("ix_login_attempts_user_id_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_key: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    ip: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfferVersion(Timestamped, db.Model):
    """A version of the public offer agreement; the newest published one is current."""

    __tablename__ = "offer_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class OfferAcceptance(db.Model):
    __tablename__ = "offer_acceptances"
    __table_args__ = (Index("ix_offer_acceptances_user_offer", "user_id", "offer_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    offer_version_id: Mapped[int] = mapped_column(ForeignKey("offer_versions.id"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))

    offer_version = relationship("OfferVersion")
