"""The files a command-line user names: plain files, folders walked, and zip/tar members.

``osteo inspect`` and ``osteo measure`` read their inputs here, and archive members go
through :func:`screening.archives.iter_archive` with its limits, so a command says about
an archive what a batch upload of the same archive would see.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from screening.archives import MANIFEST_NAME, ArchiveError, Overflow, Rejected, iter_archive


def iter_input_files(paths: list[Path] | tuple[Path, ...]) -> Iterator[tuple[str, bytes | None, str]]:
    """(display name, bytes or None, why not) for every file under ``paths``, in order.

    Folders are walked sorted, hidden files and manifests skipped; an archive member is
    named ``archive!member``; a member the archive reader refuses, or an archive past
    the file cap, yields no bytes and the reason.
    """
    for path in paths:
        if path.is_dir():
            children = sorted(p for p in path.rglob("*")
                              if p.is_file() and not p.name.startswith(".") and p.name.lower() != MANIFEST_NAME)
            yield from iter_input_files(children)
        elif zipfile.is_zipfile(path) or _is_tar(path):
            try:
                for member in iter_archive(path):
                    if isinstance(member, Overflow):
                        yield str(path), None, member.reason
                    elif isinstance(member, Rejected):
                        yield f"{path}!{member.name}", None, member.reason
                    elif member.name.lower().rsplit("/", 1)[-1] != MANIFEST_NAME:
                        yield f"{path}!{member.name}", member.data, ""
            except ArchiveError as exc:
                yield str(path), None, str(exc)
        else:
            yield str(path), path.read_bytes(), ""


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False
