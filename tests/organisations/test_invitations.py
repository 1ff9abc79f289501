"""Adding an existing person to an organisation needs their consent (issue: an organisation
administrator could attach any customer by typing their e-mail, and learn their name and
login; staff e-mails could be enumerated the same way)."""

import re

from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.notifications.models import Notification
from portal.organisations.models import Invitation, Membership, Power
from tests.factories import PASSWORD, login, make_user


def invite(client, email, full_name="Кто угодно", login_name=None):
    data = {"full_name": full_name, "email": email, "powers": [Power.VIEW_PRICES.value]}
    if login_name:
        data["login"] = login_name
    response = client.post("/organisation/users/new", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def flash_of(page):
    match = re.search(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S)
    return " ".join(match.group(1).split()) if match else ""


def memberships_of(user):
    return db.session.scalars(select(Membership).where(Membership.user_id == user.id)).all()


def test_inviting_another_organisations_customer_attaches_nobody_and_reveals_nothing(
    client, buyer, other_pharmacy, outbox
):
    stranger = make_user(other_pharmacy, login="stranger.login", email="stranger@example.org")
    login(client, buyer)
    page = invite(client, "Stranger@Example.org")
    assert [m.organisation_id for m in memberships_of(stranger)] == [other_pharmacy.id]
    members = client.get("/organisation/users").get_data(as_text=True)
    for text in (page, members):
        assert stranger.full_name not in text
        assert "stranger.login" not in text
    assert "stranger@example.org" in members  # listed as a pending invitation, by its e-mail
    (mail,) = outbox.to("stranger@example.org")
    assert "Аптека Тест" in outbox.text(mail)
    notice = db.session.scalar(select(Notification).where(Notification.user_id == stranger.id))
    assert notice is not None and notice.link.startswith("/organisation/invitations/")


def test_the_administrator_gets_the_same_answer_for_nobody_a_customer_and_staff(
    client, buyer, other_pharmacy, manager, outbox
):
    make_user(other_pharmacy, login="customer", email="customer@example.org")
    login(client, buyer)
    answers = {
        email: flash_of(invite(client, email)).replace(email, "<e-mail>")
        for email in ("nobody@example.org", "customer@example.org", manager.email)
    }
    assert len(set(answers.values())) == 1, answers
    assert "Приглашение отправлено" in answers["nobody@example.org"]
    members = client.get("/organisation/users").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>", members.split('data-testid="invitations"')[1])
    assert sorted(rows) == sorted(["nobody@example.org", "customer@example.org", manager.email])
    assert "Менеджер" not in members and "manager" not in members.replace(manager.email, "")
    # Staff are never attached, mailed or notified, and the invitation cannot be accepted.
    assert memberships_of(manager) == []
    assert outbox.to(manager.email) == []
    assert db.session.scalar(select(Notification).where(Notification.user_id == manager.id)) is None
    staff_invitation = db.session.scalar(
        select(Invitation).where(Invitation.email == manager.email)
    )
    assert staff_invitation.user_id is None


def test_the_invited_person_accepts_signed_in_and_it_is_audited(
    app, client, buyer, other_pharmacy, pharmacy, outbox
):
    stranger = make_user(other_pharmacy, login="stranger", email="stranger@example.org")
    login(client, buyer)
    invite(client, "stranger@example.org")
    (mail,) = outbox.to("stranger@example.org")
    (link,) = outbox.links(mail)
    invited = app.test_client()
    assert invited.get(link).status_code == 302  # sign in first
    login(invited, stranger)
    page = invited.get(link).get_data(as_text=True)
    assert "Аптека Тест" in page and "Принять" in page
    invited.post(link, data={"answer": "accept"})
    joined = {m.organisation_id: m for m in memberships_of(stranger)}
    assert set(joined) == {other_pharmacy.id, pharmacy.id}
    assert joined[pharmacy.id].powers == {Power.VIEW_PRICES}
    actions = [
        (e.action, e.actor_id)
        for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.action.startswith("membership.")
    ]
    assert ("membership.invited", buyer.id) in actions
    assert ("membership.invitation_accepted", stranger.id) in actions
    # Answered: the link cannot add the membership again.
    again = invited.post(link, data={"answer": "accept"}, follow_redirects=True)
    assert "уже" in again.get_data(as_text=True)
    assert len(memberships_of(stranger)) == 2


def test_a_declined_invitation_adds_nothing_and_is_audited(
    app, client, buyer, other_pharmacy, outbox
):
    stranger = make_user(other_pharmacy, login="stranger", email="stranger@example.org")
    login(client, buyer)
    invite(client, "stranger@example.org")
    (link,) = outbox.links(outbox.to("stranger@example.org")[0])
    invited = app.test_client()
    login(invited, stranger)
    invited.post(link, data={"answer": "decline"})
    assert [m.organisation_id for m in memberships_of(stranger)] == [other_pharmacy.id]
    assert db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == "membership.invitation_declined")
    )


def test_only_the_invited_account_can_open_the_invitation(
    app, client, buyer, pharmacy, other_pharmacy, outbox
):
    make_user(other_pharmacy, login="stranger", email="stranger@example.org")
    login(client, buyer)
    invite(client, "stranger@example.org")
    (link,) = outbox.links(outbox.to("stranger@example.org")[0])
    # The inviting administrator, or anyone else signed in, gets a 404.
    assert client.get(link).status_code == 404
    assert client.post(link, data={"answer": "accept"}).status_code == 404
    intruder = app.test_client()
    login(intruder, make_user(other_pharmacy, login="intruder"))
    assert intruder.post(link, data={"answer": "accept"}).status_code == 404
    assert intruder.get("/organisation/invitations/not-a-token").status_code == 404
    assert len(db.session.scalars(select(Membership)).all()) == 3


def test_an_expired_invitation_cannot_be_accepted(app, client, buyer, other_pharmacy, outbox):
    from datetime import timedelta

    from portal.database import utcnow

    stranger = make_user(other_pharmacy, login="stranger", email="stranger@example.org")
    login(client, buyer)
    invite(client, "stranger@example.org")
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    (link,) = outbox.links(outbox.to("stranger@example.org")[0])
    invited = app.test_client()
    login(invited, stranger)
    assert "истёк" in invited.get(link).get_data(as_text=True)
    invited.post(link, data={"answer": "accept"})
    assert len(memberships_of(stranger)) == 1


def test_a_staff_member_cannot_be_signed_into_an_organisation_by_invitation(
    app, client, buyer, manager, outbox
):
    login(client, buyer)
    invite(client, manager.email)
    invitation = db.session.scalar(select(Invitation))
    staff = app.test_client()
    login(staff, manager)
    assert staff.get(f"/organisation/invitations/{invitation.token}").status_code == 404
    assert memberships_of(manager) == []
    assert PASSWORD  # the staff member's own sign-in is untouched
