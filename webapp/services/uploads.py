"""Seed files uploaded in the browser: kept as sent by the request, unpacked and imported by a job.

The request only stores the files it received (under names of ours) and their names as sent. The job
checks each: a `.md` or `.txt` file is imported; a `.zip` is unpacked first, member by member, within
the limits of the settings. Refused, each with its message in the import run: a name that would leave
the folder (`../`, an absolute path, a backslash), a symbolic link or any other entry that is not a
plain file, a file that is not `.md`, `.txt` or `.zip`, and an archive with too many files or whose
sizes, declared or real, go past the limit (a zip bomb: reading stops at the limit).
"""

from __future__ import annotations

import shutil
import stat
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from ..models import ACTIVE_JOB_STATUSES, Job, db
from . import import_runs, jobs
from .seed_import import SEED_SUFFIXES, ImportReport

ARCHIVE_SUFFIX = ".zip"
CHUNK = 64 * 1024
SOURCE_NAMES = 5  # names shown in a run's source before "and N more"


@dataclass(frozen=True)
class Limits:
    max_files: int  # ZIP_MAX_FILES: entries in one archive
    max_uncompressed: int  # ZIP_MAX_UNCOMPRESSED_BYTES: an archive's files, unpacked, together
    max_seed_bytes: int  # SEED_MAX_BYTES: one seed file


class UploadError(ValueError):
    """The upload cannot be taken at all (no files); the message says why."""


@dataclass
class UploadReport(ImportReport):
    """An import report that names each file as the uploader knows it (`bundle.zip/a.md`), not
    by where the job unpacked it."""

    names: dict[str, str] = field(default_factory=dict)

    def _name(self, path) -> str:
        return self.names.get(str(path), str(path))

    def refuse(self, path, message: str, *, retry: bool = False) -> None:
        super().refuse(self._name(path), message, retry=retry)

    def settle(self, paths, outcome: str) -> None:
        super().settle([self._name(path) for path in paths], outcome)

    def conflict(self, path, message: str) -> None:
        super().conflict(self._name(path), message)


def stage(files, folder: Path) -> dict:
    """Store the uploaded files (objects with `.filename` and `.save(path)`) in a new folder under
    `folder`; a job's parameters for them."""
    chosen = [each for each in files if each.filename]
    if not chosen:
        raise UploadError("Choose one or more .md, .txt or .zip files to upload.")
    staging = folder / uuid.uuid4().hex
    (staging / "sent").mkdir(parents=True)
    manifest = []
    for position, each in enumerate(chosen):
        stored = f"{position:06d}"
        each.save(staging / "sent" / stored)
        manifest.append({"name": import_runs.storable(each.filename), "stored": stored})
    return {"folder": str(staging), "files": manifest}


def source(params: dict) -> str:
    names = [each["name"] for each in params["files"]]
    shown = ", ".join(names[:SOURCE_NAMES])
    more = len(names) - SOURCE_NAMES
    return f"upload: {shown}" + (f" and {more} more" if more > 0 else "")


def run(job_id: int, limits: Limits, *, lease_seconds: int) -> None:
    """Unpack and import the job's files into a new import run; raises JobStopped if cancelled."""
    job = db.session.get(Job, job_id)
    staging = Path(job.params["folder"])
    try:
        run_id = import_runs.begin_run(
            kind="upload",
            source=source(job.params),
            started_by=job.requested_by,
            started_by_id=job.requested_by_id,
        )
        jobs.attach(job_id, import_run_id=run_id)
        report = UploadReport()
        paths = unpack(job.params["files"], staging, report, limits)
        jobs.progress(job_id, 0, len(paths), lease_seconds=lease_seconds)
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            try:
                jobs.progress(job_id, done, lease_seconds=lease_seconds)
            except jobs.JobStopped as stopped:
                raise import_runs.ImportStopped(str(stopped)) from stopped

        try:
            import_runs.import_into_run(
                run_id, paths, report, max_bytes=limits.max_seed_bytes, on_progress=advance
            )
        except import_runs.ImportStopped as stopped:
            raise stopped.__cause__ or stopped from None
        jobs.finish(job_id, done=len(paths), total=len(paths))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def delete_leftovers(folder: Path, older_than: timedelta = timedelta(hours=1)) -> list[Path]:
    """Delete the upload folders under `folder` that no waiting or running job will read (a job
    cancelled before it started, a worker killed mid-way): those untouched for `older_than`."""
    if not folder.is_dir():
        return []
    wanted = {
        job.params.get("folder")
        for job in db.session.scalars(
            select(Job).where(Job.kind == "upload", Job.status.in_(ACTIVE_JOB_STATUSES))
        )
    }
    cutoff = time.time() - older_than.total_seconds()
    gone = []
    for entry in folder.iterdir():
        if str(entry) not in wanted and entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(entry)
    return gone


def unpack(files: list[dict], staging: Path, report: UploadReport, limits: Limits) -> list[Path]:
    """The seed files to import, unpacked under `staging/seeds`; every refusal noted in `report`."""
    paths = []
    for position, each in enumerate(files):
        name, sent = each["name"], staging / "sent" / each["stored"]
        into = staging / "seeds" / str(position)
        problem = _name_problem(name, allow_folders=False)
        if problem:
            report.refuse(name, problem)
        elif name.lower().endswith(ARCHIVE_SUFFIX):
            paths += _unzip(sent, name, into, report, limits)
        elif _is_seed_name(name):
            into.mkdir(parents=True)
            target = into / name
            sent.rename(target)
            report.names[str(target)] = name
            paths.append(target)
        else:
            report.refuse(name, _WRONG_TYPE)
    return paths


_WRONG_TYPE = "not a seed file: only .md and .txt files (or a .zip of them) are imported"


def _is_seed_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in SEED_SUFFIXES


def _name_problem(name: str, *, allow_folders: bool) -> str | None:
    """What is wrong with a file's name as sent, or None."""
    if "\\" in name or "\x00" in name:
        return "refused: a backslash or NUL in the name (a path that may leave the folder)"
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return "refused: the name leaves the upload's folder (path traversal)"
    if not allow_folders and len(path.parts) != 1:
        return "refused: the name leaves the upload's folder (path traversal)"
    if not path.parts or path.name.startswith("."):
        return "refused: a hidden file or an empty name"
    return None


def _unzip(archive: Path, name: str, into: Path, report: UploadReport, limits: Limits) -> list[Path]:
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        report.refuse(name, f"not a zip archive that can be read: {error}")
        return []
    with opened:
        entries = [entry for entry in opened.infolist() if not entry.is_dir()]
        if len(entries) > limits.max_files:
            report.refuse(
                name, f"refused whole: it holds {len(entries):,} files, more than {limits.max_files:,}"
            )
            return []
        declared = sum(entry.file_size for entry in entries)
        if declared > limits.max_uncompressed:
            report.refuse(
                name,
                f"refused whole: its files would take {declared:,} bytes unpacked, "
                f"more than {limits.max_uncompressed:,}",
            )
            return []
        paths = []
        budget = limits.max_uncompressed
        for entry in entries:
            shown = f"{name}/{entry.filename}"
            problem = _entry_problem(entry, into)
            if problem:
                report.refuse(shown, problem)
                continue
            target = into / entry.filename
            written = _copy_capped(opened, entry, target, min(entry.file_size, budget))
            if isinstance(written, str):
                report.refuse(shown, written)
                continue
            budget -= written
            report.names[str(target)] = shown
            paths.append(target)
        return paths


def _entry_problem(entry: zipfile.ZipInfo, into: Path) -> str | None:
    problem = _name_problem(entry.filename, allow_folders=True)
    if problem:
        return problem
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "refused: a symbolic link, not a file"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return "refused: not a plain file"
    if entry.flag_bits & 0x1:
        return "refused: encrypted"
    if not _is_seed_name(entry.filename):
        return _WRONG_TYPE
    if (into / entry.filename).exists():
        return "refused: a second file of this name in the archive"
    return None


def _copy_capped(opened: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path, cap: int) -> int | str:
    """Unpack one entry, reading no more than `cap` bytes: its size, or why it was refused (nothing kept)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    refused = None
    try:
        with opened.open(entry) as source, target.open("xb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > cap:
                    refused = "refused: it unpacks to more than it declared (a zip bomb); reading stopped"
                    break
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        refused = f"refused: it cannot be unpacked ({error})"
    if refused:
        target.unlink(missing_ok=True)
        return refused
    return written
