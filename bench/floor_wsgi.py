"""The portal (wsgi.py) plus one signed-in page that does no work of its own, for bench/floor.py.

    gunicorn -w 2 bench.floor_wsgi:app

`/bench-floor/` needs a signed-in user and renders base.html with an empty content block:
what every portal page pays before its own work (session and user, the set-up gate, the
menu, the end-of-request commit, the access log). Only the bench serves it.
"""

import gc
import sys
from pathlib import Path

from flask import Blueprint, render_template
from jinja2 import ChoiceLoader, DictLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.security import access  # noqa: E402

app = create_app()
floor = Blueprint("bench_floor", __name__)


# A template file as every page has (compiled once per worker and kept), not a string that
# render_template_string would compile again on every request.
app.jinja_env.loader = ChoiceLoader(
    [
        DictLoader(
            {"bench/floor.html": '{% extends "base.html" %}{% block content %}{% endblock %}'}
        ),
        app.jinja_env.loader,
    ]
)


@floor.get("/bench-floor/")
@access.authenticated
def page():
    return render_template("bench/floor.html")


app.register_blueprint(floor)
gc.freeze()  # as wsgi.py does
