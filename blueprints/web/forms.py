"""Form errors the GOV.UK way: one plain-English message per field, written
for the person filling in the form, listed in the error summary in the order
of the form and shown again beside each field.

The schemas validate (one validation for the API and the pages) and the API
keeps their messages; a page never shows them. Each form declares its fields
once (`Field`: what to call it, how to ask for it) and `page_errors` turns
whatever the schema or a service said into the page's messages. A message
that is not ours (a framework default) never passes through: it becomes the
field's own "enter a real ..." message."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# What marshmallow, its validators and the form plumbing say by default. A
# page must never show one of these (tests/blueprints/web/test_form_messages.py
# walks every form and looks for them).
FRAMEWORK_MESSAGES = (
    r"Missing data for required field\.",
    r"Field may not be null\.",
    r"Invalid value\.",
    r"Invalid type\.",
    r"Invalid input type\.",
    r"Unknown field\.",
    r"Not a valid [\w\- ]+\.",
    r"Number too large\.",
    r"Must be one of: .*",
    r"Must be (greater|less) than .*",
    r"Must be equal to .*",
    r"Shorter than minimum length \d+\.",
    r"Longer than maximum length \d+\.",
    r"Length must be (between \d+ and \d+|\d+)\.",
    r"String does not match expected pattern\.",
    r'".*" cannot be formatted as a .*',
    r"Special numeric values .*",
    r"The CSRF token .*",
)
_FRAMEWORK = re.compile("|".join(f"(?:{pattern})" for pattern in FRAMEWORK_MESSAGES))
_MISSING = re.compile(
    r"Missing data for required field\.|Field may not be null\.|Shorter than minimum length 1\."
)
_TOO_LONG = re.compile(r"Longer than maximum length (\d+)\.|Length must be between \d+ and (\d+)\.")


def is_framework_message(text: str) -> bool:
    return bool(_FRAMEWORK.fullmatch(text.strip()))


@dataclass(frozen=True)
class Field:
    """One question on a form.

    `name` is the key the schema reports errors under ("child.first_name");
    `label` starts a sentence about the answer ("First name must be 100
    characters or less"); `missing` asks for it ("Enter the child's first
    name", "Select a risk level"); `invalid` says the answer is not one we can
    take (by default the same as `missing`); `own` rewrites our own schema or
    service messages where a field wants other words; `anchor` is the id of
    the input the summary links to (by default the name with dots as dashes).
    """

    name: str
    label: str
    missing: str
    invalid: str | None = None
    anchor: str | None = None
    own: Mapping[str, str] = field(default_factory=dict)

    @property
    def href(self) -> str:
        return "#" + (self.anchor or self.name.replace(".", "-"))

    def say(self, raw: str) -> str:
        """This field's words for what the schema or a service said."""
        text = raw.strip()
        if text in self.own:
            return self.own[text]
        if _MISSING.fullmatch(text):
            return self.missing
        too_long = _TOO_LONG.fullmatch(text)
        if too_long:
            limit = int(too_long.group(1) or too_long.group(2))
            return f"{self.label} must be {limit:,} characters or less"
        if is_framework_message(text):
            return self.invalid or self.missing
        return text.rstrip(".")


class PageErrors(dict[str, str]):
    """{field name: the one message shown for it}, in the form's order, with
    what the GOV.UK macros take: `summary()` for the error summary and
    `field(name)` for a component's `errorMessage`."""

    def __init__(self, messages: Iterable[tuple[str, str]], anchors: Mapping[str, str]) -> None:
        super().__init__(messages)
        self._anchors = dict(anchors)

    def summary(self) -> list[dict[str, str]]:
        return [
            {"text": message, "href": self._anchors.get(name, "#main-content")}
            for name, message in self.items()
        ]

    def field(self, name: str) -> dict[str, str] | None:
        message = self.get(name)
        return {"text": message} if message else None


# The form as a whole (not one field): what a page says for it.
FORM = Field(name="_schema", label="The form", missing="Check your answers and try again")


def page_errors(raw: Mapping[str, Any] | None, fields: Iterable[Field]) -> PageErrors:
    """The page's messages for errors keyed by field name (from `validate`,
    a service's refusal or a view's own check). Fields are reported in the
    order given; an error under a name the form does not declare is shown
    once at the end as a message about the form, in words of ours."""
    raw = dict(raw or {})
    declared = list(fields)
    messages: list[tuple[str, str]] = []
    anchors: dict[str, str] = {}
    for spec in declared:
        said = _first(raw.pop(spec.name, None))
        if said is not None:
            messages.append((spec.name, spec.say(said)))
            anchors[spec.name] = spec.href
    for name, value in raw.items():
        said = _first(value)
        if said is None:
            continue
        message = FORM.say(said) if not is_framework_message(said) else FORM.missing
        if name not in dict(messages):
            messages.append((name, message))
    return PageErrors(messages, anchors)


def _first(value: Any) -> str | None:
    """GOV.UK shows one message a field: the first thing wrong with it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        for item in value:
            found = _first(item)
            if found:
                return found
        return None
    if isinstance(value, Mapping):
        for item in value.values():
            found = _first(item)
            if found:
                return found
        return None
    return str(value)
