"""The file store as tests see it: the same checks whether files are on disk or in a bucket."""

from portal.files import store


def keys(area: str = "uploads", prefix: str = "") -> set[str]:
    files = store.files() if area == "uploads" else store.reports()
    return {entry.key for entry in files.entries(prefix)}


def read(key: str, area: str = "uploads") -> bytes:
    return (store.files() if area == "uploads" else store.reports()).read(key)


def exists(key: str, area: str = "uploads") -> bool:
    return (store.files() if area == "uploads" else store.reports()).exists(key)


def put(key: str, data: bytes, area: str = "uploads") -> None:
    """Store `data` under `key`, replacing what an earlier test left there."""
    files = store.files() if area == "uploads" else store.reports()
    files.delete(key)
    files.put(key, data)
