"""What downstream tools read from our exports: PyYAML, python-frontmatter and gray-matter (npm)."""

import json
import shutil
import subprocess
from datetime import UTC, datetime

import frontmatter
import pytest
import yaml
from sqlalchemy import select

from tests.factories import ROOT, SEEDS
from webapp.formats.seeds import split_front_matter
from webapp.models import APPROVED, Article, db
from webapp.services import moderation
from webapp.services.exporting import ExportFilters, export
from webapp.services.seed_import import import_paths

READERS = ROOT / "tests" / "readers"


@pytest.fixture
def exported(app, make_user, shared, tmp_path):
    """The real seed and the real corpus, imported, approved with a heat, and exported as files."""
    import_paths([str(SEEDS), str(shared / "real-seeds")], max_bytes=2**21)
    maria = make_user("maria")
    for article in db.session.scalars(select(Article)).all():
        version = article.version
        moderation.set_heat(article.id, maria, 100 + article.id, version, 200)
        moderation.decide(article.id, maria, APPROVED, version + 1)
    export(tmp_path, "dir", ExportFilters(), requested_by="test")
    files = sorted(tmp_path.iterdir())
    assert len(files) > 50
    return files


def test_pyyaml_and_python_frontmatter_read_every_export(exported):
    for path in exported:
        text = path.read_text(encoding="utf-8")
        front, body = split_front_matter(text.removeprefix("\ufeff"))
        data = yaml.safe_load(front)
        assert data["published"] is True and data["heat"] > 100 and data["copydesk"]["approvedBy"] == "maria"
        post = frontmatter.loads(text)
        assert post.metadata == data, path.name
        assert post.content == body.strip(), path.name


def _json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


def test_gray_matter_reads_every_export(exported):
    if shutil.which("node") is None or not (READERS / "node_modules" / "gray-matter").is_dir():
        pytest.skip("gray-matter needs Node.js and `npm ci --prefix tests/readers` (make setup-dev runs it)")
    result = subprocess.run(
        ["node", str(READERS / "read-gray-matter.js"), *map(str, exported)],
        capture_output=True,
        check=True,
        text=True,
    )
    documents = json.loads(result.stdout)
    for path, document in zip(exported, documents, strict=True):
        front, body = split_front_matter(path.read_text(encoding="utf-8").removeprefix("\ufeff"))
        assert document["data"] == _json_value(yaml.safe_load(front)), path.name
        assert document["content"].strip() == body.strip(), path.name
