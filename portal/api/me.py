"""GET /api/v1/me: who the key acts for."""

import marshmallow as ma
from flask import current_app, g
from flask_smorest import Blueprint

from portal.api.auth import requires
from portal.organisations.models import Power

blp = Blueprint(
    "api_me", __name__, url_prefix="/api/v1", description="The key and its organisation"
)


class OrganisationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    legal_name = ma.fields.String(required=True)
    inn = ma.fields.String(required=True)
    kpp = ma.fields.String(allow_none=True)
    kind = ma.fields.String(
        required=True, metadata={"enum": ["pharmacy", "medical", "gas", "other"]}
    )


class KeySchema(ma.Schema):
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True, metadata={"description": "The key's visible part"})
    created_at = ma.fields.DateTime(required=True)
    expires_at = ma.fields.DateTime(allow_none=True, required=True)
    allowed_networks = ma.fields.List(ma.fields.String(), required=True)


class MeSchema(ma.Schema):
    organisation = ma.fields.Nested(OrganisationSchema, required=True)
    key = ma.fields.Nested(KeySchema, required=True)
    acting_user = ma.fields.String(
        required=True, metadata={"description": "The user who created the key"}
    )
    powers = ma.fields.List(
        ma.fields.String(metadata={"enum": [p.value for p in Power]}),
        required=True,
        metadata={"description": "The key's powers the creator still holds"},
    )
    rate_limit = ma.fields.String(required=True, metadata={"example": "120 per minute"})


@blp.route("/me")
@requires(None)
@blp.response(200, MeSchema)
def me():
    """The organisation, the key's name and its powers."""
    return build_me(g.membership)


def build_me(membership) -> dict:
    key = membership.key
    return {
        "organisation": membership.organisation,
        "key": {
            "name": key.name,
            "prefix": "sp_" + key.prefix,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
            "allowed_networks": key.networks,
        },
        "acting_user": membership.user.full_name,
        "powers": sorted(p.value for p in membership.powers),
        "rate_limit": current_app.config["API_RATE_LIMIT"],
    }
