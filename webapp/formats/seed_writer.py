"""Approved articles back into the seed format, rewriting only what moderation changed.

Each article keeps the text of the seed it came from. The export edits that text in place
at the positions libyaml reports for the nodes it changes, so quoting, blank lines, key
order, unknown keys, `secured` and the body come out exactly as they came in:

- `published` becomes `true`; `heat` is the moderator's (a line is added after the seed's
  last scalar field before it when the seed had none, unless heat is still unset);
- related entries merged into another are taken out of the list and written, as they
  were, under `mergedFrom` on the entry they were merged into, so no URL is lost;
- `copydesk` (seeds.MODERATION_KEY) is added at the end: approvedBy, approvedAt,
  exportRun, and in the YAML-stream format the body.

Every result is parsed again before it is returned. The edit of nearly every seed (plain
one-line `heat` and `published` in a block mapping) is checked for the values moderation
wrote (heat, published, copydesk); every other edit is compared with all the values it must
hold. Should an edit ever come out wrong, the document is written whole from those values
instead (same data, the seed's layout lost), and that too is read back: what cannot be
written right raises `ExportCheckError`, so an export is never lossy and never invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from .seeds import (
    _MAP,
    _SEQ,
    _STR,
    HEAT_UNSET,
    MODERATION_KEY,
    _BaseLoader,
    _node_value,
    _SeedLoader,
    front_matter_span,
    load_front_matter,
    split_front_matter,
)

MERGED_KEY = "mergedFrom"
# Where `heat` and `published` go when a seed lacks them: after the nearest of these.
_SCALAR_FIELDS_BEFORE_HEAT = (
    "quality",
    "type",
    "cdnAmpWebUrl",
    "ampWebUrl",
    "webUrl",
    "originalUrl",
    "publishedDateTime",
    "excerpt",
    "title",
    "category",
)
_NEEDS_ESCAPE = re.compile('[\\x00-\\x1f"\\\\\\x7f-\\x9f\\u2028\\u2029\\ufeff\\ufffe\\uffff\\ud800-\\udfff]')


@dataclass(frozen=True, slots=True)
class Moderation:
    """The facts a downstream reader gets under the `copydesk` key."""

    approved_by: str | None
    approved_at: datetime | None
    export_run: int
    body: str | None = None  # only in the YAML-stream format

    def as_mapping(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {
            "approvedBy": self.approved_by,
            "approvedAt": self.approved_at,
            "exportRun": self.export_run,
        }
        if self.body is not None:
            mapping["body"] = self.body
        return mapping

    def as_yaml(self, newline: str) -> str:
        lines = [f"{MODERATION_KEY}:"]
        for key, value in self.as_mapping().items():
            lines.append(f"  {key}: {scalar(value)}")
        return newline.join(lines) + newline


def exported_seed(
    source_text: str,
    *,
    heat: int,
    moderation: Moderation,
    merges: dict[int, list[int]] | None = None,
    added: dict[int, dict[str, Any]] | None = None,
) -> str:
    """The seed file for an approved article: its source text with moderation's changes.

    `merges` maps the position of each canonical related entry to the positions of the
    entries merged into it; `added` holds the related entries taken in from a duplicate
    article (position -> the entry as the seed format writes it), which follow the seed's own.
    """
    bom = "\ufeff" if source_text.startswith("\ufeff") else ""
    text = source_text[len(bom) :]
    start, end, body_start = front_matter_span(text)
    front_matter = exported_front_matter(
        text[start:end], heat=heat, moderation=moderation, merges=merges, added=added
    )
    exported = text[:start] + front_matter + text[end:]
    # The fences must still find the same front matter and body: the file is read that way.
    if split_front_matter(exported) != (front_matter, text[body_start:]):
        raise ExportCheckError("the edited front matter moved the closing '---' line")
    return bom + exported


def exported_front_matter(
    front_matter: str,
    *,
    heat: int,
    moderation: Moderation,
    merges: dict[int, list[int]] | None = None,
    added: dict[int, dict[str, Any]] | None = None,
) -> str:
    """The front matter's YAML with moderation's changes, read back before it is returned; see
    the module docstring. Raises `ExportCheckError` when no way of writing it reads back right."""
    # libyaml skips a byte-order mark at the start of its input without counting it, so every
    # mark it reports would be one short of the text's own index: edit the text after it.
    bom = "\ufeff" if front_matter.startswith("\ufeff") else ""
    front_matter = front_matter[len(bom) :]
    if not merges and not added:
        plain = _plain_edit(front_matter, heat, moderation)
        if plain is not None:
            edited, heat_written = plain
            if _holds_moderation(edited, heat if heat_written else None, moderation):
                return bom + edited
    loader = _SeedLoader(front_matter)
    try:
        root = loader.get_single_node()
        original = _node_value(loader, root, set())
    finally:
        loader.dispose()
    expected = _expected_mapping(original, heat, moderation, merges or {}, added or {})
    try:
        edited = _FrontMatterEdit(front_matter, root, heat, moderation, merges or {}, added or {}).apply()
        if load_front_matter(edited) == expected:
            return bom + edited
    except (yaml.YAMLError, ValueError, IndexError):
        pass
    whole = dump_mapping(expected)
    try:
        if load_front_matter(whole) == expected:
            return whole
    except ValueError:
        pass
    raise ExportCheckError("the front matter written from its values does not read back as them")


class ExportCheckError(ValueError):
    """An exported document that would not read back as the values it must hold."""


def _holds_moderation(edited: str, heat: int | None, moderation: Moderation) -> bool:
    """Whether `edited` parses and holds what moderation wrote: heat (None: no heat key),
    published true and the copydesk mapping. The other values the plain edit cannot change."""
    try:
        mapping = load_front_matter(edited)
    except ValueError:  # SeedError: not YAML, or not a mapping
        return False
    heat_ok = (
        "heat" not in mapping
        if heat is None
        else type(mapping.get("heat")) is int and mapping["heat"] == heat
    )
    return (
        heat_ok
        and mapping.get("published") is True
        and mapping.get(MODERATION_KEY) == moderation.as_mapping()
    )


def _plain_edit(front_matter: str, heat: int, moderation: Moderation) -> tuple[str, bool] | None:
    """The edit of nearly every seed, and whether it writes a heat: `published` and `heat` as
    plain one-line scalars of a block mapping, lines added after a one-line-ended scalar,
    `copydesk` appended or replaced. These edits cannot change any other value, so the caller
    checks only the values they write, not the whole mapping (tests hold the two equal on
    every real seed). None when the seed is laid out otherwise."""
    loader = _PositionLoader(front_matter)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    if (
        root is None
        or root.id != "mapping"
        or root.flow_style
        or root.start_mark.column != 0
        or not root.value
    ):
        return None
    if "\n..." in front_matter or front_matter.startswith("..."):
        return None
    fields = {key.value: value for key, value in root.value}
    for name in ("heat", "published"):
        value = fields.get(name)
        plain = value is None or (
            value.id == "scalar" and not value.style
        )  # libyaml says '' for plain, PyYAML None
        if not plain or (value is not None and value.start_mark.line != value.end_mark.line):
            return None
    last = root.value[-1][1]
    if last.id == "scalar" and last.style in ("|", ">"):
        return None  # a kept final line break (|+) would move below what is appended
    existing = fields.get(MODERATION_KEY)
    if existing is not None and (existing.id != "mapping" or existing.flow_style):
        return None
    edited = _FrontMatterEdit(front_matter, root, heat, moderation, {}, {}).apply()
    return edited, "heat" in fields or heat != HEAT_UNSET


class _PositionLoader(_BaseLoader):
    """libyaml composing nodes for their positions only: every scalar is left as text."""

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass

    def resolve(self, kind, value, implicit):
        return _STR if kind is yaml.ScalarNode else _SEQ if kind is yaml.SequenceNode else _MAP


def _expected_mapping(
    original: dict[str, Any],
    heat: int,
    moderation: Moderation,
    merges: dict[int, list[int]],
    added: dict[int, dict],
) -> dict[str, Any]:
    expected = {key: value for key, value in original.items() if key != MODERATION_KEY}
    if "heat" in expected or heat != HEAT_UNSET:
        expected = _with_key_after(expected, "heat", heat, _SCALAR_FIELDS_BEFORE_HEAT)
    expected = _with_key_after(expected, "published", True, ("heat", *_SCALAR_FIELDS_BEFORE_HEAT))
    if merges or added:
        entries = dict(enumerate(expected.get("related") or [])) | added
        hidden = {position for merged in merges.values() for position in merged}
        related = []
        for position in sorted(entries):
            if position in hidden:
                continue
            entry = entries[position]
            if position in merges:
                entry = {**entry, MERGED_KEY: [entries[p] for p in sorted(merges[position])]}
            related.append(entry)
        if related or "related" in expected:
            expected["related"] = related  # a seed without related gets the list at its end
    expected[MODERATION_KEY] = moderation.as_mapping()
    return expected


def _with_key_after(mapping: dict[str, Any], key: str, value: Any, after: tuple[str, ...]) -> dict[str, Any]:
    if key in mapping:
        return {**mapping, key: value}
    anchor = next((name for name in after if name in mapping and _is_scalar(mapping[name])), None)
    if anchor is None:
        return {**mapping, key: value}
    result = {}
    for name, existing in mapping.items():
        result[name] = existing
        if name == anchor:
            result[key] = value
    return result


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))


class _FrontMatterEdit:
    """Text edits at node positions, applied from the end so earlier positions stay valid."""

    def __init__(
        self,
        text: str,
        root,
        heat: int,
        moderation: Moderation,
        merges: dict[int, list[int]],
        added: dict[int, dict],
    ):
        self.text = text
        self.root = root
        self.heat = heat
        self.moderation = moderation
        self.merges = merges
        self.added = added
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.edits: list[tuple[int, int, str]] = []
        self.fields = {key.value: (key, value) for key, value in root.value}

    def apply(self) -> str:
        self._published_and_heat()
        if self.merges or self.added:
            self._merge_related()
        self._moderation_key()
        # From the end, so earlier positions stay valid; at one position the edit made last goes in
        # first, so insertions come out in the order they were made.
        text = self.text
        ordered = sorted(
            enumerate(self.edits), key=lambda item: (item[1][0], item[1][1], item[0]), reverse=True
        )
        for _, (start, end, replacement) in ordered:
            text = text[:start] + replacement + text[end:]
        return text

    def _published_and_heat(self) -> None:
        added = []
        if "heat" in self.fields:
            self._replace_scalar("heat", str(self.heat))
        elif self.heat != HEAT_UNSET:
            added.append(f"heat: {self.heat}")
        if "published" in self.fields:
            self._replace_scalar("published", "true")
        else:
            added.append("published: true")
        if not added:
            return
        anchors = (
            ("heat", *_SCALAR_FIELDS_BEFORE_HEAT) if "heat" in self.fields else _SCALAR_FIELDS_BEFORE_HEAT
        )
        lines = self.newline.join(added) + self.newline
        anchor = next(
            (
                self.fields[name][1]
                for name in anchors
                if name in self.fields and self.fields[name][1].id == "scalar"
            ),
            None,
        )
        position = self._end_of_line(anchor.end_mark.index) if anchor else self._content_end(len(self.text))
        self.edits.append((position, position, lines))

    def _replace_scalar(self, name: str, replacement: str) -> None:
        value = self.fields[name][1]
        if value.id != "scalar":
            raise ValueError(f"{name} is not a scalar")
        if value.start_mark.index == value.end_mark.index:
            # An empty value (`heat:`): libyaml marks it just after the colon, with no space.
            replacement = " " + replacement
        self.edits.append((value.start_mark.index, value.end_mark.index, replacement))

    def _merge_related(self) -> None:
        field = self.fields.get("related")
        items = field[1].value if field else []
        if field and field[1].id != "sequence":
            raise ValueError("related is not a list")
        hidden = {position for merged in self.merges.values() for position in merged}
        for canonical, merged in self.merges.items():
            if canonical >= len(items):
                continue  # an added entry: written whole below, its merged entries with it
            entry = items[canonical]
            indent = entry.start_mark.column
            block = [" " * indent + f"{MERGED_KEY}:"]
            for position in sorted(merged):
                if position < len(items):
                    block.append(self._reindented_item(items, position, indent + 2))
                else:
                    block.append(_entry_lines([self.added[position]], indent + 2))
            position = self._content_end(entry.end_mark.index)
            self.edits.append((position, position, self.newline.join(block) + self.newline))
        for position in sorted(p for p in hidden if p < len(items)):
            start, end = self._item_span(items, position)
            self.edits.append((start, end, ""))
        appended = [
            {
                **self.added[p],
                **(
                    {MERGED_KEY: [self._entry_value(m) for m in sorted(self.merges[p])]}
                    if p in self.merges
                    else {}
                ),
            }
            for p in sorted(self.added)
            if p not in hidden
        ]
        if not appended:
            return
        if items:
            dash_column = self.text.rfind("-", 0, items[0].start_mark.index) - (
                self.text.rfind("\n", 0, items[0].start_mark.index) + 1
            )
            position = self._content_end(field[1].end_mark.index)
            self.edits.append(
                (position, position, _entry_lines(appended, dash_column, self.newline) + self.newline)
            )
        elif field:
            raise ValueError("an empty related list to add to")
        else:
            position = self._content_end(len(self.text))
            lines = (
                self.newline
                + "related:"
                + self.newline
                + _entry_lines(appended, 2, self.newline)
                + self.newline
            )
            self.edits.append((position, position, lines))

    def _entry_value(self, position: int) -> dict:
        if position in self.added:
            return self.added[position]
        loader = _SeedLoader("")
        try:
            return _node_value(loader, self.fields["related"][1].value[position], set())
        finally:
            loader.dispose()

    def _item_span(self, items, position: int) -> tuple[int, int]:
        item = items[position]
        start = self.text.rfind("\n", 0, item.start_mark.index) + 1
        if self.text[start : item.start_mark.index].strip() != "-":
            raise ValueError("related entry does not start on its '-' line")
        return start, self._content_end(item.end_mark.index)

    def _reindented_item(self, items, position: int, dash_column: int) -> str:
        start, end = self._item_span(items, position)
        lines = self.text[start:end].rstrip("\r\n").split("\n")
        shift = dash_column - lines[0].index("-")
        if shift < 0:
            raise ValueError("cannot indent a merged entry less")
        pad = " " * shift
        return "\n".join(pad + line if line.strip() else line for line in lines)

    def _moderation_key(self) -> None:
        block = self.moderation.as_yaml(self.newline)
        existing = self.fields.get(MODERATION_KEY)
        if existing:
            key, value = existing
            self.edits.append((key.start_mark.index, self._content_end(value.end_mark.index), block))
            return
        end = self._content_end(len(self.text))
        before = self.text[:end]
        separator = "" if before.endswith(self.newline * 2) or not before else self.newline
        self.edits.append((end, len(self.text), separator + block + self.text[end:]))

    def _end_of_line(self, index: int) -> int:
        newline = self.text.find("\n", index)
        return len(self.text) if newline < 0 else newline + 1

    def _content_end(self, index: int) -> int:
        """Just after the line break of the last non-blank line before `index`."""
        last = len(self.text[:index].rstrip())
        return self._end_of_line(last) if last else 0


def scalar(value: Any) -> str:
    """One YAML scalar in the seed's style: timestamps as `2023-10-19T13:22:00Z`, text double-quoted."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return timestamp(value)
    return double_quoted(str(value))


def timestamp(value: datetime) -> str:
    value = value.astimezone(UTC)
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{value.microsecond:06d}" if value.microsecond else "") + "Z"
    )


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar: every character YAML would fold or refuse is escaped."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match) -> str:
    character = match.group()
    if character in '"\\':
        return "\\" + character
    if character == "\n":
        return "\\n"
    if character == "\t":
        return "\\t"
    return f"\\u{ord(character):04x}"


class _BlockDumper(yaml.SafeDumper):
    """Block style, lists indented under their key, times as `2023-10-19T13:22:00Z`: as seeds write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


_BlockDumper.add_representer(
    datetime, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:timestamp", timestamp(value))
)


def _entry_lines(entries: list[dict[str, Any]], dash_column: int, newline: str = "\n") -> str:
    """Related entries written from values, as list items whose dash is at `dash_column`."""
    text = yaml.dump(
        entries,
        Dumper=_BlockDumper,
        allow_unicode=True,
        sort_keys=False,
        width=2**31 - 1,
        default_flow_style=False,
    )
    pad = " " * dash_column
    return newline.join(pad + line for line in text.rstrip("\n").split("\n"))


def dump_mapping(mapping: dict[str, Any]) -> str:
    """A whole front matter written from values: the fallback when editing the text fails."""
    return yaml.dump(
        mapping,
        Dumper=_BlockDumper,
        allow_unicode=True,
        sort_keys=False,
        width=2**31 - 1,
        default_flow_style=False,
    )
