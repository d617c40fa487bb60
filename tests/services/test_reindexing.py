"""`seeds reindex` computes the duplicate suggestions and the story index exactly as the import did."""

from sqlalchemy import select, update

from bench.generate import write_corpus
from webapp.models import Article, DuplicateSuggestion, RelatedLink, StoryMatch, db
from webapp.services import merging
from webapp.services.reindexing import reindex
from webapp.services.seed_import import import_paths
from webapp.services.story_index import COVERED, DUPLICATE, RELATED_ENTRY


def derived_data():
    return {
        "suggestions": sorted(
            db.session.execute(
                select(
                    DuplicateSuggestion.article_id, DuplicateSuggestion.positions, DuplicateSuggestion.reason
                )
            ).all(),
            key=repr,
        ),
        "matches": sorted(
            db.session.execute(
                select(StoryMatch.article_id, StoryMatch.other_id, StoryMatch.reason, StoryMatch.kind)
            ).all()
        ),
        "articles": db.session.execute(
            select(Article.id, Article.suggestion_count, Article.duplicate_of_id).order_by(Article.id)
        ).all(),
    }


def test_reindex_gives_what_the_import_stored_and_keeps_merges(app, make_user, tmp_path):
    write_corpus(120, seed=7, out_dir=tmp_path)
    import_paths([str(tmp_path)], max_bytes=2**21)
    suggestion = db.session.scalars(select(DuplicateSuggestion).limit(1)).one()
    article = db.session.get(Article, suggestion.article_id)
    merging.merge(article.id, make_user(), article.version, list(suggestion.positions))
    imported = derived_data()
    assert imported["suggestions"] and imported["matches"]
    kinds = [match.kind for match in imported["matches"]]
    assert {DUPLICATE, COVERED} <= set(kinds)
    # As migration 0017 leaves a database: every related-list link covered together, until reindexed.
    db.session.execute(
        update(StoryMatch)
        .where(StoryMatch.reason.startswith(RELATED_ENTRY))
        .values(kind=COVERED, reason=RELATED_ENTRY)
    )
    db.session.commit()

    report = reindex(batch=7)  # batches smaller than the corpus: matches across batches count too

    assert derived_data() == imported
    assert report.articles == len(imported["articles"])
    assert report.suggestions == len(imported["suggestions"])
    assert (report.matches, report.covered) == (kinds.count(DUPLICATE), kinds.count(COVERED))
    merged = db.session.scalars(select(RelatedLink).where(RelatedLink.article_id == article.id)).all()
    assert any(link.merged_into_id is not None for link in merged)


def test_reindex_command_reports_what_it_did(app, runner, tmp_path):
    write_corpus(20, seed=3, out_dir=tmp_path)
    import_paths([str(tmp_path)], max_bytes=2**21)

    result = runner.invoke(args=["seeds", "reindex"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("reindexed 20 articles: ")
