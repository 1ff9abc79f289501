"""The one file store: every file the portal keeps, on the local disk or in an S3 bucket.

Two areas, each a store with the same interface:

- `files()`   what people upload: scans, supplier documents, ticket attachments, certificates
  (``catalog/…``), meter photos (``metering/…``); on disk under UPLOAD_DIR;
- `reports()` what the portal generates and keeps: statements (``statements/…``); on disk
  under REPORT_DIR.

With ``PORTAL_STORAGE_URL=s3://bucket/prefix`` both live in that bucket under
``prefix/uploads/`` and ``prefix/reports/`` (endpoint ``PORTAL_S3_ENDPOINT_URL``, credentials
and region from boto3's usual environment: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``). Without it, the local disk, as a laptop needs (boto3 is then never
imported).

The interface (keys are relative paths such as ``catalog/3f…e1.pdf``)::

    stored = store.files().put(key, data)   # -> Stored(key, size, sha256); keys are random
    store.files().open(key)                 # a binary file object (use it in a `with`)
    store.files().stream(key)               # an iterator of chunks
    store.files().read(key) / exists(key) / size(key) / delete(key)
    store.files().entries(prefix="")        # -> Entry(key, size, modified) for each object
    store.new_key(".pdf", folder="catalog") # a random 160-bit name
    store.send(store.files(), key, download_name=..., content_type=...)  # a download response

Rules every caller keeps:

- write the object first, then the row (a node killed in between leaves an object without a
  row, which `flask storage-orphans` collects, never a row without its object);
- a failed put raises `StoreUnavailable` (a UserError: its message tells the person to try
  again; nothing is recorded); a missing object raises `FileMissing`;
- `send` is called only after the view has checked access; it answers 404 (and logs an
  error) when the row's object is missing, 503 when the store cannot be reached, and, with
  ``PORTAL_STORAGE_PRESIGNED=1`` on S3, a redirect to a presigned URL valid
  ``PORTAL_STORAGE_PRESIGNED_SECONDS`` seconds carrying the same Content-Disposition,
  Content-Type and Cache-Control.
"""

import contextlib
import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, redirect, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.http import dump_options_header

from portal.errors import UserError

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
AREAS = ("uploads", "reports")
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
PARTIAL_SUFFIX = ".part"


class StoreUnavailable(UserError):  # noqa: N818 - a state, said as the person would read it
    """The store cannot be reached (or refused the operation): nothing was written."""

    def __init__(self, message=None, **details):
        # Not UserError.__init__: it renders the message, and a worker has no request (locale).
        ValueError.__init__(self, "the file store is unreachable")
        self.message = message or _l(
            "The file storage is unavailable right now, so the file was not saved. "
            "Nothing was recorded; please try again in a few minutes."
        )
        self.field = None
        self.details = details


class FileMissing(LookupError):  # noqa: N818
    """The key names no object in the store."""


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    modified: datetime  # aware, UTC


def check_key(key: str) -> str:
    """A relative path of safe segments (no '..', no leading '/', no hidden segment)."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or ".." in key:
        raise ValueError(f"not a file store key: {key!r}")
    return key


def new_key(extension: str, folder: str = "") -> str:
    """A random name (160 bits) with the extension, under `folder`."""
    name = secrets.token_hex(20) + extension
    return check_key(f"{folder.strip('/')}/{name}" if folder else name)


def _as_bytes(data) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return data.read()


class LocalStore:
    """Files under a folder of the local disk (the default)."""

    kind = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self):
        return f"LocalStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data, content_type: str | None = None) -> Stored:
        data = _as_bytes(data)
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written under a partial name, then linked to the final one: a process killed
            # mid-write leaves only a ".part" file (collected as an orphan), never a
            # truncated file under a name a row could hold. link() refuses to overwrite.
            partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            with os.fdopen(os.open(partial, flags, 0o640), "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(partial, path)
            finally:
                partial.unlink(missing_ok=True)
        except FileExistsError:
            raise
        except OSError as error:
            log.error("file store %s: writing %s failed: %s", self, key, error)
            raise StoreUnavailable() from error
        return Stored(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def open(self, key: str):
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as error:
            raise FileMissing(key) from error
        except OSError as error:
            raise StoreUnavailable() from error

    def stream(self, key: str) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def read(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as error:
            raise FileMissing(key) from error

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if not path.is_file():
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                stat = path.stat()
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                yield Entry(key=key, size=stat.st_size, modified=modified)

    def presigned_url(self, key, **_headers) -> str | None:
        return None  # the disk has no URL of its own: the portal streams it


class S3Store:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, moto...) under a prefix."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def __repr__(self):
        return f"S3Store(s3://{self.bucket}/{self.prefix})"

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _unavailable(self, action, key, error):
        log.error("file store %s: %s %s failed: %s", self, action, key, error)
        return StoreUnavailable()

    def _call(self, action, key, method, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(Bucket=self.bucket, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in {"404", "NoSuchKey", "NotFound"} or status == 404:
                raise FileMissing(key) from error
            raise self._unavailable(action, key, error) from error
        except BotoCoreError as error:  # connection refused, timeouts, DNS...
            raise self._unavailable(action, key, error) from error

    def put(self, key: str, data, content_type: str | None = None) -> Stored:
        data = _as_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self._call(
                "writing",
                key,
                self.client.put_object,
                Key=self.object_key(key),
                Body=data,
                Metadata={"sha256": digest},
                **extra,
            )
        except FileMissing as error:  # a 404 on a put: the bucket itself is missing
            raise self._unavailable("writing", key, error) from error
        return Stored(key=key, size=len(data), sha256=digest)

    def open(self, key: str):
        answer = self._call("reading", key, self.client.get_object, Key=self.object_key(key))
        return _S3Body(answer["Body"], self, key, answer.get("ContentLength"))

    def stream(self, key: str) -> Iterator[bytes]:
        with self.open(key) as body:
            yield from body.chunks()

    def read(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def exists(self, key: str) -> bool:
        try:
            self._call("looking up", key, self.client.head_object, Key=self.object_key(key))
        except FileMissing:
            return False
        return True

    def size(self, key: str) -> int:
        answer = self._call("looking up", key, self.client.head_object, Key=self.object_key(key))
        return int(answer["ContentLength"])

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileMissing):
            self._call("deleting", key, self.client.delete_object, Key=self.object_key(key))

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        from botocore.exceptions import BotoCoreError, ClientError

        base = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix):
                for item in page.get("Contents", []):
                    modified = item["LastModified"]
                    yield Entry(
                        key=item["Key"][len(base) :],
                        size=int(item["Size"]),
                        modified=modified.astimezone(UTC),
                    )
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("listing", prefix, error) from error

    def presigned_url(self, key, *, disposition, content_type, seconds) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            ExpiresIn=seconds,
        )


class _S3Body(io.RawIOBase):
    """An object's body as a file: read errors in the middle become StoreUnavailable."""

    def __init__(self, body, store, key, length=None):
        super().__init__()
        self.body, self.store, self.key, self.length = body, store, key, length

    def readable(self):
        return True

    def read(self, size=-1):
        from botocore.exceptions import BotoCoreError

        try:
            return self.body.read(None if size is None or size < 0 else size)
        except (BotoCoreError, OSError) as error:
            raise self.store._unavailable("reading", self.key, error) from error

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def chunks(self):
        while chunk := self.read(CHUNK):
            yield chunk

    def close(self):
        with contextlib.suppress(Exception):
            self.body.close()
        super().close()


# --- the configured stores -------------------------------------------------------------------


def _settings(config) -> tuple:
    return (
        config.get("STORAGE_URL") or "",
        config.get("S3_ENDPOINT_URL") or "",
        config.get("S3_REGION") or "",
        config.get("S3_ADDRESSING_STYLE") or "path",
        float(config.get("STORAGE_TIMEOUT_SECONDS") or 10),
        config.get("UPLOAD_DIR"),
        config.get("REPORT_DIR"),
    )


def _s3_client(endpoint, region, addressing, timeout):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region or None,
        config=Config(
            connect_timeout=timeout,
            read_timeout=max(timeout, 30),
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": addressing},
            signature_version="s3v4",
        ),
    )


def build(area: str, config) -> "LocalStore | S3Store":
    """The store of one area for a configuration (a dict such as app.config)."""
    if area not in AREAS:
        raise ValueError(f"unknown file store area {area!r}")
    url, endpoint, region, addressing, timeout, upload_dir, report_dir = _settings(config)
    if not url or url.startswith("file:") or url == "local":
        return LocalStore(upload_dir if area == "uploads" else report_dir)
    if not url.startswith("s3://"):
        raise ValueError("PORTAL_STORAGE_URL must be s3://bucket/prefix (or unset for the disk)")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError("PORTAL_STORAGE_URL names no bucket: s3://bucket/prefix")
    client = _s3_client(endpoint, region, addressing, timeout)
    return S3Store(bucket, "/".join(p for p in (prefix.strip("/"), area) if p), client)


def _configured(area: str):
    app = current_app._get_current_object()
    stores = app.extensions.setdefault("file_store", {})
    settings = (area, *_settings(app.config))
    store = stores.get(settings)
    if store is None:
        store = stores[settings] = build(area, app.config)
    return store


def files():
    """The store of uploaded files."""
    return _configured("uploads")


def reports():
    """The store of generated files the portal keeps (statements)."""
    return _configured("reports")


def disk_stores(config) -> dict:
    """The local-disk stores of both areas (the source of `flask storage-migrate`)."""
    return {
        "uploads": LocalStore(config["UPLOAD_DIR"]),
        "reports": LocalStore(config["REPORT_DIR"]),
    }


# --- downloads --------------------------------------------------------------------------------


def content_disposition(name: str, as_attachment: bool = True) -> str:
    """RFC 6266 as Flask's send_file writes it: an ASCII name, and the UTF-8 one as filename*."""
    try:
        name.encode("ascii")
        names = {"filename": name}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": f"UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"}
    return dump_options_header("attachment" if as_attachment else "inline", names)


def _answer(status: int, template: str):
    from portal.api.problems import is_api_request, problem_response

    if is_api_request():
        messages = {
            404: _l("The file of this record is missing from the storage; staff are alerted."),
            503: _l("The file storage is unavailable right now; try again in a few minutes."),
        }
        return problem_response(status, str(messages[status]))
    return render_template(template), status


def _private(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def send(
    store,
    key: str,
    *,
    download_name: str,
    content_type: str,
    as_attachment: bool = True,
):
    """The download of `key` (access already checked by the caller): stream or redirect.

    A missing object answers a clear 404 page and logs an error (the row points at nothing);
    an unreachable store answers 503.
    """
    config = current_app.config
    disposition = content_disposition(download_name, as_attachment)
    try:
        if config.get("STORAGE_PRESIGNED") and store.kind == "s3":
            if not store.exists(key):
                raise FileMissing(key)
            url = store.presigned_url(
                key,
                disposition=disposition,
                content_type=content_type,
                seconds=int(config.get("STORAGE_PRESIGNED_SECONDS") or 60),
            )
            return _private(redirect(url, code=302))
        handle = store.open(key)  # fails here (404/503) before any byte is sent
        length = getattr(handle, "length", None)
        if length is None:
            length = os.fstat(handle.fileno()).st_size

        def chunks():
            with handle:  # closed at the end, or when the response is closed
                while chunk := handle.read(CHUNK):
                    yield chunk

        response = Response(chunks(), mimetype=content_type, direct_passthrough=True)
        response.headers["Content-Length"] = str(length)
        response.headers["Content-Disposition"] = disposition
        response.call_on_close(handle.close)
        return _private(response)
    except FileMissing:
        log.error("file store %r: %s is referenced by a record but missing", store, key)
        return _answer(404, "files/missing.html")
    except StoreUnavailable:
        return _answer(503, "files/unavailable.html")
