"""Partial updates (htmx): add to cart, change a quantity, remove a line, mark a favourite.

An htmx request (header HX-Request, the CSRF token in the X-CSRFToken header as portal.js sends
it) gets a fragment: the row's message, the cart row, and out of band the totals and the top
bar's cart count. The same form without JavaScript posts to the same URL and is redirected.
"""

import re

from sqlalchemy import func, select

from portal.catalog.models import Favourite
from portal.extensions import db
from portal.orders.models import CartLine
from tests.catalog.builders import make_item

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def htmx_post(client, url, data, token=True):
    headers = {"HX-Request": "true"}
    if token:
        page = client.get("/catalog/").get_data(as_text=True)
        headers["X-CSRFToken"] = META_CSRF.search(page).group(1)
    return client.post(url, data=data, headers=headers, csrf=False)


def lines():
    db.session.expire_all()
    return {line.item_id: line.quantity for line in db.session.scalars(select(CartLine))}


def favourites():
    return db.session.scalar(select(func.count(Favourite.item_id)))


def cart_count_in(html):
    match = re.search(
        r'id="top-link-cart3" hx-swap-oob="true">.*?data-testid="cart-count">(\d+)<', html, re.S
    )
    return int(match.group(1)) if match else 0


def test_add_to_cart_answers_with_the_message_and_the_top_bar_count(login_as, buyer):
    item = make_item("Нурофен", stock=50)
    other = make_item("Пластырь", stock=50)
    client = login_as(buyer)
    htmx_post(client, "/cart/add", {"item_id": other.id, "quantity": "1", "next": "/catalog/"})
    response = htmx_post(client, "/cart/add", {"item_id": item.id, "quantity": "3", "next": "/x"})
    assert response.status_code == 200  # no redirect, no page
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Нурофен" in html and "3" in html
    assert 'data-testid="cart-status"' in html
    assert cart_count_in(html) == 2  # two lines in the cart, swapped into the top bar
    assert lines() == {other.id: 1, item.id: 3}
    # The message was shown in the row: nothing is left flashed for the next page.
    assert "в корзине" not in client.get("/cart").get_data(as_text=True).split("<main")[1][:400]


def test_a_refused_quantity_shows_its_message_in_the_row_and_saves_nothing(login_as, buyer):
    carton = make_item("Бинт", min_quantity=10, stock=30)
    client = login_as(buyer)
    response = htmx_post(client, "/cart/add", {"item_id": carton.id, "quantity": "5"})
    assert response.status_code == 422  # base.html configures htmx to swap a 422
    html = response.get_data(as_text=True)
    assert "Минимальный заказ — 10 уп." in html and "text-danger" in html
    assert lines() == {}
    response = htmx_post(client, "/cart/add", {"item_id": carton.id, "quantity": ""})
    assert response.status_code == 422 and "целое число упаковок" in response.get_data(as_text=True)
    assert lines() == {}


def test_an_htmx_request_without_the_csrf_header_is_refused(login_as, buyer):
    item = make_item("Нурофен", stock=50)
    client = login_as(buyer)
    response = htmx_post(client, "/cart/add", {"item_id": item.id, "quantity": "2"}, token=False)
    assert response.status_code == 400
    assert lines() == {}
    response = client.post(
        "/cart/add",
        data={"item_id": item.id, "quantity": "2"},
        headers={"HX-Request": "true", "X-CSRFToken": "forged"},
        csrf=False,
    )
    assert response.status_code == 400 and lines() == {}


def test_changing_a_quantity_answers_with_the_row_totals_and_count(login_as, buyer):
    item = make_item("Нурофен", price="110.00", stock=50)
    client = login_as(buyer)
    htmx_post(client, "/cart/add", {"item_id": item.id, "quantity": "2"})
    line = db.session.scalar(select(CartLine))
    response = htmx_post(client, "/cart/update", {f"quantity-{line.id}": "5"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr data-testid="cart-line" id="cart-line-{line.id}"')
    assert 'value="5"' in html
    assert '<tfoot id="cart-totals" hx-swap-oob="true">' in html
    assert "550,00" in html  # the new total
    assert 'id="cart-actions" hx-swap-oob="true"' in html
    assert cart_count_in(html) == 1
    assert lines() == {item.id: 5}


def test_a_refused_cart_quantity_keeps_the_typed_value_with_the_message(login_as, buyer):
    item = make_item("Нурофен", price="110.00", stock=50)
    client = login_as(buyer)
    htmx_post(client, "/cart/add", {"item_id": item.id, "quantity": "2"})
    line = db.session.scalar(select(CartLine))
    response = htmx_post(client, "/cart/update", {f"quantity-{line.id}": "60"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "В наличии только 50 уп." in html and 'data-testid="line-error"' in html
    assert 'value="60"' in html and 'aria-invalid="true"' in html
    assert "hx-swap-oob" not in html  # the totals did not change
    assert lines() == {item.id: 2}


def test_removing_lines_and_the_last_one_empties_the_cart_in_place(login_as, buyer):
    first = make_item("Нурофен", stock=50)
    second = make_item("Пластырь", stock=50)
    client = login_as(buyer)
    htmx_post(client, "/cart/add", {"item_id": first.id, "quantity": "2"})
    htmx_post(client, "/cart/add", {"item_id": second.id, "quantity": "1"})
    ids = {line.item_id: line.id for line in db.session.scalars(select(CartLine))}
    response = htmx_post(client, "/cart/update", {"remove": ids[first.id]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="cart-line-{ids[first.id]}"' not in html  # the row is swapped for nothing
    assert html.lstrip().startswith('<template>\n    <tfoot id="cart-totals" hx-swap-oob="true">')
    assert cart_count_in(html) == 1
    assert lines() == {second.id: 1}
    response = htmx_post(client, "/cart/update", {"remove": ids[second.id]})
    assert response.headers["HX-Retarget"] == "#cart-body"
    html = response.get_data(as_text=True)
    assert 'id="cart-body"' in html and "Корзина пуста" in html
    assert cart_count_in(html) == 0 and lines() == {}


def test_another_users_line_cannot_be_removed_by_a_partial_update(app, login_as, buyer, pharmacy):
    from tests.factories import login, make_user

    item = make_item("Нурофен", stock=50)
    other = app.test_client()
    login(other, make_user(pharmacy))
    other.post("/cart/add", data={"item_id": item.id, "quantity": "3"})
    line = db.session.scalar(select(CartLine))
    client = login_as(buyer)
    response = htmx_post(client, "/cart/update", {"remove": line.id})
    assert response.status_code == 422
    assert lines() == {item.id: 3}


def test_the_favourite_button_is_swapped_for_its_new_state(login_as, buyer):
    item = make_item("Нурофен", stock=50)
    client = login_as(buyer)
    response = htmx_post(client, f"/catalog/items/{item.id}/favourite", {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert f'id="favourite-{item.id}"' in html and "Убрать из избранного" in html
    assert favourites() == 1
    html = htmx_post(client, f"/catalog/items/{item.id}/favourite", {}).get_data(as_text=True)
    assert "В избранное" in html and favourites() == 0


def test_without_javascript_every_action_posts_the_same_form_and_redirects(login_as, buyer):
    item = make_item("Нурофен", stock=50)
    carton = make_item("Бинт", min_quantity=10, stock=30)
    client = login_as(buyer)
    added = client.post(
        "/cart/add", data={"item_id": item.id, "quantity": "2", "next": "/catalog/"}
    )
    assert added.status_code == 302 and added.headers["Location"] == "/catalog/"
    assert "«Нурофен" in client.get("/catalog/").get_data(as_text=True)  # the flashed message
    refused = client.post(
        "/cart/add", data={"item_id": carton.id, "quantity": "5", "next": "/cart"}
    )
    assert refused.status_code == 302
    assert "Минимальный заказ — 10 уп." in client.get("/cart").get_data(as_text=True)
    line = db.session.scalar(select(CartLine))
    changed = client.post("/cart/update", data={f"quantity-{line.id}": "4"})
    assert changed.status_code == 302 and changed.headers["Location"] == "/cart"
    assert lines() == {item.id: 4}
    favourite = client.post(f"/catalog/items/{item.id}/favourite", data={})
    assert favourite.status_code == 302 and favourite.headers["Location"].endswith(f"/{item.id}")
    assert favourites() == 1
    removed = client.post("/cart/update", data={"remove": line.id})
    assert removed.status_code == 302 and lines() == {}


def test_a_partial_update_after_the_session_ended_navigates_to_sign_in(client, buyer):
    item = make_item("Нурофен", stock=50)
    response = client.post(
        "/cart/add", data={"item_id": item.id, "quantity": "2"}, headers={"HX-Request": "true"}
    )
    # Not the sign-in page swapped into a table row: htmx loads it as a whole page.
    assert response.status_code in (204, 400)
    if response.status_code == 204:
        assert "/login" in response.headers["HX-Redirect"]
    assert lines() == {}


def test_pages_load_htmx_locally_with_the_csrf_meta_and_no_inline_script(login_as, buyer):
    make_item("Нурофен", stock=50)
    client = login_as(buyer)
    response = client.get("/catalog/")
    html = response.get_data(as_text=True)
    assert '<script src="/static/vendor/htmx/htmx.min.js"></script>' in html
    assert META_CSRF.search(html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "style-src 'self';" in response.headers["Content-Security-Policy"]
    assert 'hx-post="/cart/add"' in html
    with client.get("/static/vendor/htmx/htmx.min.js") as script:
        assert script.status_code == 200 and b"htmx" in script.data[:2000]
