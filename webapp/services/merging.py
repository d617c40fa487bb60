"""Merging duplicate related links of one article, and unmerging them.

A merge keeps every entry: the others point at the canonical one (`merged_into`) and are
shown collapsed under it; unmerging clears that, so the list is again exactly as imported.
Merges and unmerges are changes like the moderation decisions (`changes.Change`): they
carry the article's version, write an AuditEvent whose before/after hold the whole merge
map (position -> canonical position), and can be undone. The article's duplicate
suggestions are computed again after each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Row, bindparam, delete, func, insert, select, update

from ..formats.duplicates import LinkFields, related_suggestions, suggestion_rows
from ..models import Article, DuplicateSuggestion, RelatedLink, StoryKey, User, db
from . import changes, search
from .changes import InvalidInput
from .story_index import KeySource, index_articles

MergeMap = dict[
    str, int | None
]  # position (as JSON keys are text) -> canonical position, or None when visible


def merge(
    article_id: int, user: User, version: int, positions: list[int], canonical: int | None = None
) -> dict:
    """Merge the entries at `positions` into one; `canonical` stays (default: see `default_canonical`)."""
    links = _links(article_id)
    by_position = {link.position: link for link in links}
    chosen = sorted(set(positions))
    if len(chosen) < 2:
        raise InvalidInput("merge", "Choose at least two related entries to merge.")
    for position in chosen:
        link = by_position.get(position)
        if link is None:
            raise InvalidInput("merge", f"There is no related entry {position + 1}.")
        if link.merged_into_id is not None:
            raise InvalidInput(
                "merge", f"Entry {position + 1} is already merged into another; unmerge it first."
            )
    if canonical is None:
        canonical = default_canonical([by_position[p] for p in chosen]).position
    elif canonical not in chosen:
        raise InvalidInput("merge", f"The entry to keep ({canonical + 1}) must be one of those merged.")
    before = merge_map(links)
    after = dict(before)
    for position, target in before.items():
        if int(position) in chosen or target in chosen:
            after[position] = None if int(position) == canonical else canonical
    return _apply(article_id, user, version, "merge", before, after)


def unmerge(article_id: int, user: User, version: int, canonical: int) -> dict:
    """Show the entries merged into the one at `canonical` again, where they were."""
    before = merge_map(_links(article_id))
    if canonical not in before.values():
        raise InvalidInput("merge", f"Nothing is merged into entry {canonical + 1}.")
    after = {position: None if target == canonical else target for position, target in before.items()}
    return _apply(article_id, user, version, "unmerge", before, after)


def default_canonical(links: list):
    """The entry a merge keeps unless the moderator picks: best quality, then earliest, then first."""
    return min(
        links,
        key=lambda link: (
            -(link.quality if link.quality is not None else -1),
            link.published_at is None,
            link.published_at or 0,
            link.position,
        ),
    )


def merge_map(links: list) -> MergeMap:
    """Each link's position (as text) -> the position it is merged into, or None."""
    position_of = {link.id: link.position for link in links}
    return {str(link.position): position_of.get(link.merged_into_id) for link in links}


def restore(article_id: int, merges: MergeMap) -> None:
    """Set the article's links to `merges` and compute its suggestions again (in the caller's transaction)."""
    links = _links(article_id)
    id_at = {link.position: link.id for link in links}
    changed = []
    for link in links:
        target = merges.get(str(link.position))
        merged_into = id_at.get(target) if target is not None else None
        if link.merged_into_id != merged_into:
            changed.append({"link_id": link.id, "merged_into": merged_into})
    if changed:
        db.session.execute(
            update(RelatedLink.__table__)
            .where(RelatedLink.id == bindparam("link_id"))
            .values(merged_into_id=bindparam("merged_into")),
            changed,
        )
    refresh_suggestions(article_id)


def refresh_suggestions(article_id: int) -> None:
    """Store the article's duplicate suggestions anew, from its visible related links, and their count."""
    visible = db.session.execute(
        select(
            RelatedLink.position,
            RelatedLink.title,
            RelatedLink.web_url,
            RelatedLink.amp_web_url,
            RelatedLink.cdn_amp_web_url,
        )
        .where(RelatedLink.article_id == article_id, RelatedLink.merged_into_id.is_(None))
        .order_by(RelatedLink.position)
    ).all()
    found = related_suggestions(LinkFields(*row) for row in visible)
    db.session.execute(
        delete(DuplicateSuggestion.__table__).where(DuplicateSuggestion.article_id == article_id)
    )
    if found:
        db.session.execute(insert(DuplicateSuggestion.__table__), suggestion_rows(article_id, found))
    db.session.execute(
        update(Article.__table__)
        .where(Article.id == article_id)
        .values(related_count=len(visible), suggestion_count=len(found))
    )


def _apply(article_id: int, user: User, version: int, action: str, before: MergeMap, after: MergeMap) -> dict:
    change = changes.Change(
        action,
        before_extra={"merges": before},
        after_extra={"merges": after},
        apply_extra=lambda: restore(article_id, after),
    )
    return changes.apply_one(article_id, version, user, change)


def _links(article_id: int) -> list:
    """What merging reads of all the article's related links: plain rows, as a list may be long."""
    return db.session.execute(
        select(
            RelatedLink.id,
            RelatedLink.position,
            RelatedLink.merged_into_id,
            RelatedLink.quality,
            RelatedLink.published_at,
        )
        .where(RelatedLink.article_id == article_id)
        .order_by(RelatedLink.position)
    ).all()


# One page of the panel's related block: a seed may list 10,000 entries (see duplicates.py).
PANEL_GROUPS = 10  # suggestion groups on one page
PANEL_ENTRIES = 50  # visible related entries on one page
PANEL_MERGED = 20  # entries listed under the one they were merged into


@dataclass
class SuggestionView:
    suggestion: DuplicateSuggestion
    links: list[Row]  # related entries as SHOWN_LINK_COLUMNS reads them, as are those below
    keep: int  # the position a merge keeps unless the moderator picks another


@dataclass
class RelatedView:
    """One page of the related list as the panel shows it: visible entries, what is merged under
    each, suggestions, the totals, and where the next pages start (None when there is none)."""

    visible: list[Row]
    merged_under: dict[int, list[Row]]  # canonical link id -> the first PANEL_MERGED merged into it
    merged_counts: dict[int, int]  # canonical link id -> how many are merged into it
    suggestions: list[SuggestionView]
    visible_count: int
    merged_count: int
    suggestion_count: int
    groups_after: int | None  # the last suggestion id shown, when more follow
    entries_after: int | None  # the last visible position shown, when more follow


def related_view(
    article_id: int, groups_after: int | None = None, entries_after: int | None = None
) -> RelatedView:
    """The page of the related block after suggestion `groups_after` and position `entries_after`.

    Counted first: what an article has none of (suggestions, merged entries) is not read at all.
    """
    counts = _related_counts(article_id)
    suggestions = []
    if counts["suggestions"]:
        suggestions = list(
            db.session.scalars(
                select(DuplicateSuggestion)
                .where(
                    DuplicateSuggestion.article_id == article_id, DuplicateSuggestion.id > (groups_after or 0)
                )
                .order_by(DuplicateSuggestion.id)
                .limit(PANEL_GROUPS + 1)
            )
        )
    more_groups = len(suggestions) > PANEL_GROUPS
    suggestions = suggestions[:PANEL_GROUPS]
    wanted = {position for suggestion in suggestions for position in suggestion.positions}
    by_position = {}
    if wanted:
        by_position = {
            link.position: link
            for link in db.session.connection().execute(
                _shown_links().where(RelatedLink.position.in_(bindparam("positions", expanding=True))),
                {"article_id": article_id, "positions": sorted(wanted)},
            )
        }
    views = []
    for suggestion in suggestions:
        members = [by_position[p] for p in suggestion.positions if p in by_position]
        if len(members) > 1:
            views.append(SuggestionView(suggestion, members, default_canonical(members).position))
    start = -1 if entries_after is None else entries_after
    visible = (
        db.session.connection()
        .execute(_visible_links(), {"article_id": article_id, "start": start, "limit": PANEL_ENTRIES + 1})
        .all()
    )
    more_entries = len(visible) > PANEL_ENTRIES
    visible = visible[:PANEL_ENTRIES]
    merged_under, merged_counts = {}, {}
    if counts["merged"]:
        merged_under, merged_counts = _merged_under(article_id, [link.id for link in visible])
    return RelatedView(
        visible,
        merged_under,
        merged_counts,
        views,
        counts["visible"],
        counts["merged"],
        counts["suggestions"],
        suggestions[-1].id if more_groups else None,
        visible[-1].position if more_entries else None,
    )


def _merged_under(article_id: int, canonical_ids: list[int]) -> tuple[dict[int, list[Row]], dict[int, int]]:
    """The first PANEL_MERGED entries merged into each of these, and how many there are."""
    if not canonical_ids:
        return {}, {}
    of_these = (RelatedLink.article_id == article_id, RelatedLink.merged_into_id.in_(canonical_ids))
    counts = dict(
        db.session.execute(
            select(RelatedLink.merged_into_id, func.count())
            .where(*of_these)
            .group_by(RelatedLink.merged_into_id)
        ).all()
    )
    rank = (
        func.row_number()
        .over(partition_by=RelatedLink.merged_into_id, order_by=RelatedLink.position)
        .label("rank")
    )
    ranked = select(RelatedLink.id, rank).where(*of_these).subquery()
    merged_under: dict[int, list[Row]] = {}
    for link in db.session.connection().execute(
        select(*SHOWN_LINK_COLUMNS)
        .join(ranked, ranked.c.id == RelatedLink.id)
        .where(ranked.c.rank <= PANEL_MERGED)
        .order_by(RelatedLink.position)
    ):
        merged_under.setdefault(link.merged_into_id, []).append(link)
    return merged_under, counts


# What the panel shows of a related entry, read as plain rows: loading fifty entries as ORM objects
# (and decoding the unknown keys only the export writes) cost more than the rest of the related block.
SHOWN_LINK_COLUMNS = (
    RelatedLink.id,
    RelatedLink.position,
    RelatedLink.title,
    RelatedLink.published_at,
    RelatedLink.web_url,
    RelatedLink.amp_web_url,
    RelatedLink.cdn_amp_web_url,
    RelatedLink.quality,
    RelatedLink.provider_name,
    RelatedLink.images,
    RelatedLink.merged_into_id,
)


@cache
def _shown_links():
    return select(*SHOWN_LINK_COLUMNS).where(RelatedLink.article_id == bindparam("article_id"))


@cache
def _visible_links():
    return (
        _shown_links()
        .where(RelatedLink.merged_into_id.is_(None), RelatedLink.position > bindparam("start"))
        .order_by(RelatedLink.position)
        .limit(bindparam("limit"))
    )


def _related_counts(article_id: int) -> dict[str, int]:
    total, visible, suggestions = db.session.execute(_counts_statement(), {"article_id": article_id}).one()
    return {"visible": visible, "merged": total - visible, "suggestions": suggestions}


@cache
def _counts_statement():
    """The article's related entries, those not merged into another, and its suggestions: one statement."""
    visible = func.count().filter(RelatedLink.merged_into_id.is_(None))
    suggestions = (
        select(func.count())
        .where(DuplicateSuggestion.article_id == bindparam("article_id"))
        .scalar_subquery()
    )
    return select(func.count(), visible, suggestions).where(RelatedLink.article_id == bindparam("article_id"))


# Taking in a duplicate article's related links.

LINK_COPY_FIELDS = (
    "title",
    "excerpt",
    "published_at",
    "web_url",
    "amp_web_url",
    "cdn_amp_web_url",
    "type",
    "quality",
    "provider_name",
    "provider_domain",
    "provider_extra",
    "images",
    "extra",
    "key_order",
)


def absorb(article_id: int, user: User, version: int, source_id: int) -> dict:
    """Add the visible related links of `source_id` (a duplicate of this article) to this article's list."""
    if source_id == article_id or db.session.get(Article, source_id) is None:
        raise InvalidInput("absorb", f"There is no other article {source_id} to take related links from.")
    if db.session.scalar(
        select(RelatedLink.id)
        .where(RelatedLink.article_id == article_id, RelatedLink.source_article_id == source_id)
        .limit(1)
    ):
        raise InvalidInput("absorb", f"The related links of #{source_id} were already added here.")
    wanted = {"from": source_id}
    change = changes.Change(
        "absorb",
        before_extra={"absorbed": None},
        after_extra={"absorbed": wanted},
        apply_extra=lambda: set_absorbed(article_id, None, wanted),
    )
    return changes.apply_one(article_id, version, user, change)


def set_absorbed(article_id: int, current: dict | None, wanted: dict | None) -> None:
    """Add (wanted) or take away (current) the related links taken from another article; used by undo too."""
    if current is not None:
        positions = db.session.scalars(
            select(RelatedLink.position).where(
                RelatedLink.article_id == article_id, RelatedLink.source_article_id == current["from"]
            )
        ).all()
        db.session.execute(
            delete(StoryKey.__table__).where(
                StoryKey.article_id == article_id, StoryKey.position.in_(positions)
            )
        )
        db.session.execute(
            delete(RelatedLink.__table__).where(
                RelatedLink.article_id == article_id, RelatedLink.source_article_id == current["from"]
            )
        )
    if wanted is not None:
        source_links = db.session.scalars(
            select(RelatedLink)
            .where(RelatedLink.article_id == wanted["from"], RelatedLink.merged_into_id.is_(None))
            .order_by(RelatedLink.position)
        ).all()
        start = db.session.scalar(
            select(func.coalesce(func.max(RelatedLink.position) + 1, 0)).where(
                RelatedLink.article_id == article_id
            )
        )
        rows = [
            {
                "article_id": article_id,
                "position": start + index,
                "source_article_id": wanted["from"],
                **{name: getattr(link, name) for name in LINK_COPY_FIELDS},
            }
            for index, link in enumerate(source_links)
        ]
        if rows:
            db.session.execute(insert(RelatedLink.__table__), rows)
            index_articles(
                {
                    article_id: [
                        KeySource(
                            row["position"],
                            row["title"],
                            (row["web_url"], row["amp_web_url"], row["cdn_amp_web_url"]),
                        )
                        for row in rows
                    ]
                }
            )
    search.refresh_related_titles(article_id)
    refresh_suggestions(article_id)
