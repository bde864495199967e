"""Reading a page as a person does, for the tests of its forms: the messages
it shows as errors (the error summary's links and the messages beside the
fields), and its GOV.UK tables as rows of cell text."""

from __future__ import annotations

import html as html_module
import re
from html.parser import HTMLParser

from blueprints.web.forms import is_framework_message

_SUMMARY = re.compile(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', re.S)
_LINK = re.compile(r"<a [^>]*>(.*?)</a>", re.S)
_BESIDE = re.compile(r'<p [^>]*class="govuk-error-message[^"]*"[^>]*>(.*?)</p>', re.S)


def _text(fragment: str) -> str:
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def text_of(page: str) -> str:
    """The page's text as read: tags gone, whitespace collapsed."""
    return _text(page)


def summary_errors(page: str) -> list[str]:
    """The error summary's messages, in order."""
    found = _SUMMARY.search(page)
    return [_text(link) for link in _LINK.findall(found.group(1))] if found else []


def field_errors(page: str) -> list[str]:
    """The messages beside the fields, without the hidden "Error:"."""
    return [_text(message).removeprefix("Error:").strip() for message in _BESIDE.findall(page)]


def assert_plain_errors(page: str, *expected: str) -> list[str]:
    """The page shows an error summary with exactly these messages (in this
    order, when given), each repeated beside its field, and none of them a
    framework's default message. Returns the summary's messages."""
    summary = summary_errors(page)
    assert summary, "no error summary on the page"
    for message in summary + field_errors(page):
        assert not is_framework_message(message), f"a framework message: {message!r}"
    if expected:
        assert summary == list(expected), summary
    for message in summary:
        assert message in field_errors(page), f"{message!r} is not beside its field"
    return summary


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, object]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            rows = self.tables[-1]["rows"]
            assert isinstance(rows, list)
            rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for collecting in (self._cell, self._caption):
            if collecting is not None:
                collecting.append(data)


def tables(page: str) -> list[dict[str, object]]:
    """Every table: {"caption": text, "rows": [[cell text, ...], ...]} (the
    header row first)."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def rows_headed(page: str, heading: str) -> list[list[str]]:
    """The other cells of every table row whose first cell is `heading`."""
    return [
        row[1:]
        for table in tables(page)
        for row in table["rows"]  # type: ignore[attr-defined]
        if row and row[0] == heading
    ]
