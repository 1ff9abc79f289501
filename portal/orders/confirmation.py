"""The order-confirmation e-mail: what was ordered, for how much, when it comes, when to pay.

Sent to the buyer who placed the order, in their language, whatever their notification
settings (it is the receipt of what they just did). It is queued on the session like every
mail (portal.mail) and leaves only when the order's transaction commits. Prices and sums are
left out for a buyer without the power to see prices.
"""

from flask_babel import lazy_gettext as _l

from portal.billing import terms
from portal.mail import build_message, queue_message
from portal.orders.models import PaymentTerms
from portal.organisations.models import Power


def may_see_prices(user, organisation_id) -> bool:
    # The user's memberships are usually loaded already (the request's user): no query then.
    membership = next((m for m in user.memberships if m.organisation_id == organisation_id), None)
    return membership is not None and membership.has(Power.VIEW_PRICES)


def order_confirmation(order, vat: dict):
    """The confirmation of a just-placed order to the buyer who placed it, rendered but not
    queued (None: nobody to send it to); `vat` is the checkout summary's VAT by rate
    (computed once, at checkout). `queue` sends it with the order's transaction."""
    user = order.user
    if user is None or not user.is_active or not user.email:
        return None
    deferred = order.payment_terms == PaymentTerms.DEFERRED
    return build_message(
        user.email,
        _l("Order %(number)s is placed", number=order.number),
        "orders/mail/order_placed",
        user.language,
        order=order,
        user=user,
        show_prices=may_see_prices(user, order.organisation_id),
        vat_by_rate=vat,
        payment_terms=order.payment_label,
        due_date=terms.order_due(order),
        deferred=deferred,
        deferral_days=terms.deferral_days(order.organisation) if deferred else None,
    )


def queue(message) -> None:
    if message is not None:
        queue_message(message)


def send_order_confirmation(order, vat: dict) -> None:
    """Queue the confirmation of a just-placed order (it leaves when the transaction
    commits)."""
    queue(order_confirmation(order, vat))
