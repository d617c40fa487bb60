"""Uploaded files checked before import: zip bombs, path traversal, links, too many files, wrong types."""

import stat
import struct
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from tests.factories import Uploaded, zipped
from webapp.services import jobs, uploads
from webapp.services.uploads import Limits, UploadReport

LIMITS = Limits(max_files=10, max_uncompressed=100_000, max_seed_bytes=2**21)


def unpacked(tmp_path, files: list[Uploaded], limits: Limits = LIMITS):
    params = uploads.stage(files, tmp_path / "uploads")
    report = UploadReport()
    paths = uploads.unpack(params["files"], Path(params["folder"]), report, limits)
    refused = {each.file: each.message for each in report.outcomes}
    return paths, refused, Path(params["folder"])


def test_seed_files_and_a_zip_of_them_are_unpacked_under_the_staging_folder(tmp_path):
    archive = zipped({"a.md": b"A", "folder/b.txt": b"B"})
    paths, refused, staging = unpacked(tmp_path, [Uploaded("bundle.zip", archive), Uploaded("c.md", b"C")])
    assert refused == {}
    assert [path.read_bytes() for path in paths] == [b"A", b"B", b"C"]
    assert all(staging in path.parents for path in paths)


def test_a_zip_declaring_more_than_the_limit_unpacked_is_refused_whole(tmp_path):
    archive = zipped({"zeros.md": bytes(200_000)})
    assert len(archive) < 2_000  # a bomb: small sent, large unpacked
    paths, refused, _ = unpacked(tmp_path, [Uploaded("bomb.zip", archive)])
    assert paths == []
    assert refused == {
        "bomb.zip": "refused whole: its files would take 200,000 bytes unpacked, more than 100,000"
    }


def lying_about_its_size(name: str, data: bytes, declared: int) -> bytes:
    """A zip whose entry says it unpacks to `declared` bytes, in both its headers, but holds `data`."""
    archive = bytearray(zipped({name: data}))
    local = archive.index(b"PK\x03\x04")
    central = archive.index(b"PK\x01\x02")
    struct.pack_into("<I", archive, local + 22, declared)
    struct.pack_into("<I", archive, central + 24, declared)
    return bytes(archive)


def test_a_zip_lying_about_its_sizes_is_read_no_further_than_it_declared(tmp_path):
    archive = lying_about_its_size("liar.md", bytes(5_000_000), declared=10)
    paths, refused, staging = unpacked(tmp_path, [Uploaded("liar.zip", archive)])
    assert paths == []
    assert refused["liar.zip/liar.md"].startswith("refused: it cannot be unpacked")
    assert not any(path.is_file() for path in (staging / "seeds").rglob("*"))


@pytest.mark.parametrize(
    "name", ["../evil.md", "/etc/evil.md", "a/../../evil.md", "..\\evil.md", "C:/evil.md", "a/./../../b.md"]
)
def test_a_member_whose_name_leaves_the_folder_is_refused(tmp_path, name):
    archive = zipped({name: b"x", "good.md": b"G"})
    paths, refused, staging = unpacked(tmp_path, [Uploaded("bundle.zip", archive)])
    assert [path.name for path in paths] == ["good.md"]
    assert "refused" in refused[f"bundle.zip/{name}"]
    assert not (tmp_path / "evil.md").exists() and not Path("/etc/evil.md").exists()


@pytest.mark.parametrize("name", ["../evil.md", "a/b.md", "..\\evil.md", "/evil.md"])
def test_an_uploaded_file_whose_name_leaves_the_folder_is_refused(tmp_path, name):
    paths, refused, _ = unpacked(tmp_path, [Uploaded(name, b"x")])
    assert paths == []
    assert refused[name].startswith("refused:") and (
        "traversal" in refused[name] or "backslash" in refused[name]
    )


def test_a_symbolic_link_in_a_zip_is_refused(tmp_path):
    link = zipfile.ZipInfo("passwd.md")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = zipped({link: b"/etc/passwd", "good.md": b"G"})
    paths, refused, _ = unpacked(tmp_path, [Uploaded("bundle.zip", archive)])
    assert [path.name for path in paths] == ["good.md"]
    assert refused == {"bundle.zip/passwd.md": "refused: a symbolic link, not a file"}
    assert not any(path.is_symlink() for path in (tmp_path / "uploads").rglob("*"))


def test_a_zip_with_more_files_than_allowed_is_refused_whole(tmp_path):
    archive = zipped({f"s{n}.md": b"x" for n in range(4)})
    limits = Limits(max_files=3, max_uncompressed=100_000, max_seed_bytes=2**21)
    paths, refused, _ = unpacked(tmp_path, [Uploaded("many.zip", archive)], limits)
    assert paths == [] and refused == {"many.zip": "refused whole: it holds 4 files, more than 3"}


def test_files_that_are_not_seeds_are_refused_by_their_type(tmp_path):
    archive = zipped({"run.exe": b"MZ", "seed.md": b"S"})
    paths, refused, _ = unpacked(tmp_path, [Uploaded("notes.pdf", b"%PDF"), Uploaded("bundle.zip", archive)])
    assert [path.name for path in paths] == ["seed.md"]
    assert set(refused) == {"notes.pdf", "bundle.zip/run.exe"}
    assert all(message.startswith("not a seed file") for message in refused.values())


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    paths, refused, _ = unpacked(tmp_path, [Uploaded("broken.zip", b"not a zip at all")])
    assert paths == [] and refused["broken.zip"].startswith("not a zip archive")


def test_an_upload_without_files_is_refused(tmp_path):
    with pytest.raises(uploads.UploadError, match="Choose one or more"):
        uploads.stage([Uploaded("", b"")], tmp_path)


def test_uploads_no_job_will_read_are_deleted_once_old(app, tmp_path):
    waiting = uploads.stage([Uploaded("a.md", b"A")], tmp_path)
    jobs.create("upload", waiting, requested_by="lena")
    cancelled = uploads.stage([Uploaded("b.md", b"B")], tmp_path)
    jobs.request_cancel(jobs.create("upload", cancelled, requested_by="lena").id)
    assert uploads.delete_leftovers(tmp_path) == []  # both too new: a request may still be storing
    assert uploads.delete_leftovers(tmp_path, older_than=timedelta(0)) == [Path(cancelled["folder"])]
    assert Path(waiting["folder"]).is_dir() and not Path(cancelled["folder"]).exists()
