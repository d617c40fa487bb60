"""Every seed of the real corpus in ../shared/real-seeds imports (read in place, never copied here)."""

from datetime import UTC, datetime
from itertools import combinations

from sqlalchemy import func, select

from webapp.formats.seeds import parse, split_front_matter
from webapp.formats.stories import COVERED, DUPLICATE
from webapp.models import Article, RelatedLink, StoryMatch, db
from webapp.services.seed_import import import_paths


def test_the_whole_real_corpus_imports(app, shared):
    corpus = shared / "real-seeds"
    report = import_paths([str(corpus)], max_bytes=2 * 1024 * 1024)
    assert (report.imported, report.invalid, report.errors) == (66, 0, [])
    assert db.session.scalar(select(func.count(Article.id))) == 66
    assert db.session.scalar(select(func.count(RelatedLink.id))) == 318
    sizes = (
        db.session.execute(
            select(func.count(RelatedLink.id))
            .group_by(RelatedLink.article_id)
            .order_by(func.count(RelatedLink.id))
        )
        .scalars()
        .all()
    )
    assert (sizes[0], sizes[-1]) == (1, 28)


def test_real_corpus_sample_field_by_field(app, shared):
    path = shared / "real-seeds" / "2019-12-17-why-some-cities-and-states-balk-at-face-recognition-tech.md"
    import_paths([str(path)], max_bytes=2 * 1024 * 1024)
    stored = db.session.scalar(select(Article))
    assert stored.identity == path.stem and stored.source_name == path.name
    assert stored.title == "Why some cities and states balk at face recognition tech"
    assert stored.published_at == datetime(2019, 12, 17, 19, 40, tzinfo=UTC)
    assert (
        stored.amp_web_url
        == "https://abcnews.go.com/amp/Business/wireStory/cities-states-balk-face-recognition-tech-67783126"
    )
    assert stored.cdn_amp_web_url.startswith(
        "https://abcnews-go-com.cdn.ampproject.org/c/s/abcnews.go.com/amp/"
    )
    assert (stored.quality, stored.heat, stored.provider_name, stored.provider_domain) == (
        39,
        39,
        "ABC News",
        "go.com",
    )
    assert [t.name for t in stored.topics] == ["AI", "Computer Vision"]
    assert stored.images == [
        {
            "url": "https://s.abcnews.com/images/site/ABCNews_flat_black.png",
            "width": 834,
            "height": 308,
            "title": "Why some cities and states balk at face recognition tech",
        }
    ]
    assert stored.related == [] and "related" not in stored.key_order
    assert stored.source_text == path.read_text(encoding="utf-8")


def test_every_real_seed_keeps_secured_and_key_order(shared):
    for path in sorted((shared / "real-seeds").iterdir()):
        text = path.read_text(encoding="utf-8")
        seed = parse(text)
        assert f'secured: "{seed.secured}"' in text, path.name
        front_matter, _ = split_front_matter(text)
        top_level_keys = [line.split(":")[0] for line in front_matter.splitlines() if line[:1].isalpha()]
        assert seed.key_order == top_level_keys, path.name


def test_older_layouts_without_moderation_fields_import(app, shared):
    import_paths([str(shared / "real-seeds")], max_bytes=2 * 1024 * 1024)
    without_quality = db.session.scalars(select(Article).where(Article.quality.is_(None))).all()
    assert len(without_quality) == 9
    assert all(a.heat == -1 and a.seed_published is None for a in without_quality)
    with_provider_images = db.session.scalars(
        select(Article).where(Article.provider_extra.is_not(None))
    ).all()
    assert len(with_provider_images) == 12 and all("images" in a.provider_extra for a in with_provider_images)


def story_links() -> dict[frozenset[str], set[str]]:
    """Each linked pair of headlines -> the kinds of its links."""
    title = dict(db.session.execute(select(Article.id, Article.title)).all())
    links: dict[frozenset[str], set[str]] = {}
    for match in db.session.scalars(select(StoryMatch)):
        links.setdefault(frozenset((title[match.article_id], title[match.other_id])), set()).add(match.kind)
    return links


def test_the_real_corpus_flags_the_same_story_not_the_same_topic(app, shared):
    """Issue 16: the examples of related coverage are only covered together; the same stories are flagged."""
    import_paths([str(shared / "real-seeds")], max_bytes=2 * 1024 * 1024)
    links = story_links()
    login = "Login.gov to add facial recognition tech"
    police = [
        t
        for pair in links
        for t in pair
        if t.casefold().startswith(("met police", "essex police", "scotland yard"))
    ]
    assert len(set(police)) == 9
    for other in set(police):
        assert links[frozenset((login, other))] == {COVERED}, other
    stores = "How stores are spying on you using creepy facial recognition technology without your consent"
    scotland_yard = "Scotland Yard to use facial recognition tech to nab shoplifters in UK"
    assert links[frozenset((stores, scotland_yard))] == {COVERED}

    leukemia = (
        "Artificial intelligence tracks down leukemia",
        "Artificial Intelligence That Tracks Down Leukemia Discovered",
    )
    assert DUPLICATE in links[frozenset(leukemia)]
    quitting = {t for pair in links for t in pair if "Hinton" in t and "uits" in t}
    assert len(quitting) == 5
    for pair in combinations(sorted(quitting), 2):
        assert DUPLICATE in links[frozenset(pair)], pair
