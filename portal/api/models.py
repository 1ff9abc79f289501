"""API keys: an organisation's machine credentials ("ключи API")."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import Timestamped, UTCDateTime
from portal.extensions import db
from portal.organisations.models import Power


class ApiKey(Timestamped, db.Model):
    """A key is `<prefix>.<secret>`; only the prefix (to find the row) and the SHA-256 of the
    secret are kept. It acts for its organisation with the powers it was given, never more
    than its creator holds at the time of the request."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    powers_text: Mapped[str] = mapped_column("powers", String(255), default="")
    # Allowed client networks, one CIDR a line; empty: any address.
    allowed_networks: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Written at most once a minute (a busy key does not write on every request).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    # When a refused use of this key was last written to the audit log (at most once a minute).
    last_refusal_logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation = relationship("Organisation")
    created_by = relationship("User", foreign_keys=[created_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])

    @property
    def powers(self) -> frozenset[Power]:
        return frozenset(Power(p) for p in self.powers_text.split(",") if p)

    @powers.setter
    def powers(self, values) -> None:
        self.powers_text = ",".join(sorted(Power(v).value for v in values))

    @property
    def networks(self) -> list[str]:
        return [line for line in self.allowed_networks.splitlines() if line.strip()]

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired(now):
            return "expired"
        return "active"

    def __repr__(self):
        return f"<ApiKey {self.prefix}>"
