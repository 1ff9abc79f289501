"""A portal process that is killed (os._exit, no cleanup) in the middle of an upload.

Run by tests/files/test_store.py: argv[1] is the JSON configuration of the parent's app; the
process signs in as `buyer`, uploads a scan, and dies after the file is stored but before the
request's transaction commits — as a node does when it is killed.
"""

import io
import json
import os
import sys

from portal import create_app
from portal.documents import services
from tests.documents.files import PDF_BYTES
from tests.factories import login


def killed(*_args, **_kwargs):
    os._exit(137)  # SIGKILL-like: no rollback, no after_request, no atexit


def main():
    from tests.conftest import PortalClient  # the tests' client: it fills in CSRF tokens

    app = create_app(json.loads(sys.argv[1]))
    app.test_client_class = PortalClient
    services._notify_manager_of_upload = killed
    client = app.test_client()
    login(client, "buyer")
    form = {"category": "signed_act", "file": (io.BytesIO(PDF_BYTES), "акт.pdf")}
    client.post("/documents/scans/new", data=form, content_type="multipart/form-data")
    sys.exit("the process was not killed")


if __name__ == "__main__":
    main()
