"""Reading an Open Referral UK (HSDS) feed for the directory import
(services.directory_import): a JSON file, or a URL of the ORUK API
(`/services`), whose pages are followed. A source that cannot be read as a
list of services raises FeedError, with a message for people, before
anything is written."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A feed larger than this is not a directory of local services.
MAX_BYTES = 50 * 1024 * 1024
MAX_PAGES = 1000
TIMEOUT_SECONDS = 30


class FeedError(Exception):
    """The file or feed cannot be read as a list of services: nothing changes."""


def read_feed(source: str) -> list[Any]:
    """The records of a file path or an http(s) URL (every page of a
    paginated feed). FeedError with a message for people when the source
    cannot be read or is not a list of services."""
    if urllib.parse.urlsplit(source).scheme in ("http", "https"):
        return list(_pages(source))
    path = Path(source)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise FeedError(f"{source} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FeedError(f"Cannot read {source}: {error}.") from error
    records, _pages_in_all = _records_of(_json(text, source), source)
    return records


def _json(text: str | bytes, source: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise FeedError(f"{source} is not JSON: {error}.") from error


def _records_of(document: Any, source: str) -> tuple[list[Any], int]:
    """(records, pages in all) of a plain array or one page of the ORUK API."""
    if isinstance(document, list):
        return document, 1
    if isinstance(document, dict):
        content = document.get("content", document.get("contents"))
        if isinstance(content, list):
            pages = document.get("totalPages", document.get("total_pages", 1))
            if not isinstance(pages, int) or isinstance(pages, bool) or pages < 0:
                raise FeedError(f"{source}: totalPages is not a number of pages.")
            return content, pages
    raise FeedError(
        f"{source} is not a list of services: expected a JSON array, or an object "
        'with "content" (a page of the Open Referral UK API).'
    )


def _pages(url: str) -> Iterator[Any]:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    page = int(query.get("page", "1")) if query.get("page", "1").isdecimal() else 1
    first = page
    while True:
        query["page"] = str(page)
        address = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        records, pages = _records_of(_json(_fetch(address), address), address)
        yield from records
        # ORUK numbers pages from 1; a feed that says it has no more, or
        # sends an empty page, has ended.
        if page >= pages or not records or page - first >= MAX_PAGES:
            return
        page += 1


def _fetch(address: str) -> bytes:
    # Only http(s) reaches here (read_feed): no file: or custom schemes.
    request = urllib.request.Request(address, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the connection
        raise FeedError(f"The feed answered {error.code} for {address}.") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise FeedError(f"Cannot reach {address}: {error}.") from error
    if len(body) > MAX_BYTES:
        raise FeedError(f"{address} sent more than {MAX_BYTES // (1024 * 1024)} MB.")
    return body
