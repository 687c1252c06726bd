"""Fetching a dataset's file from its public repository, pinned by commit and checked by sha256.

A download goes to a temporary file, is hashed as it arrives, and is handed to the import only when
its sha256 is the one pinned (or given with ``--url``). Every fetch has a deadline and a size limit;
anything that goes wrong is one :class:`DownloadFailed` that names the address to fetch by hand.
Nothing is downloaded into the repository or kept after the import.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# The datasets armsbot knows are a few megabytes at most; a server sending more is refused.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class PinnedFile:
    """A dataset file as published: its path under the base address, at a commit, and its sha256."""

    name: str  # what the command calls it: "sii", "pegasus"
    path: str  # owner/repository/commit/path in the repository
    sha256: str

    def url(self, base: str) -> str:
        """The file's address under ``base`` (raw.githubusercontent.com unless overridden)."""
        return f"{base.rstrip('/')}/{self.path}"

    @property
    def filename(self) -> str:
        """The file's own name."""
        return self.path.rsplit("/", 1)[-1]


class DownloadFailed(Exception):
    """A download that cannot be imported: unreachable, too slow, too big or not the pinned file."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{reason}: {url}")


def check_sha256(text: str) -> str:
    """A sha256 as 64 lower-case hex digits, or ValueError."""
    value = text.strip().lower()
    if not SHA256.match(value):
        msg = "a sha256 is 64 hexadecimal digits"
        raise ValueError(msg)
    return value


def check_download_url(text: str) -> str:
    """An http(s) address, or ValueError."""
    parts = urlsplit(text.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = "give an http:// or https:// address"
        raise ValueError(msg)
    return text.strip()


def download(
    url: str,
    sha256: str,
    target: Path,
    *,
    timeout: float,
    progress: Callable[[int, int | None], None] | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> None:
    """Fetch ``url`` into ``target`` and check it against ``sha256``; raise :class:`DownloadFailed`.

    ``timeout`` bounds the whole fetch, connecting included. On failure ``target`` is removed.
    """
    try:
        got = _fetch(url, target, timeout=timeout, progress=progress, max_bytes=max_bytes)
    except DownloadFailed:
        target.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        target.unlink(missing_ok=True)
        raise DownloadFailed(url, f"the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        target.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DownloadFailed(url, f"could not download ({reason})") from None
    if got != sha256:
        target.unlink(missing_ok=True)
        raise DownloadFailed(
            url, f"the file's sha256 is {got}, not the expected {sha256}: it was not imported"
        )


def _fetch(
    url: str,
    target: Path,
    *,
    timeout: float,
    progress: Callable[[int, int | None], None] | None,
    max_bytes: int,
) -> str:
    """Write what ``url`` sends into ``target``, within the limits; return its sha256."""
    deadline = time.monotonic() + timeout
    digest = hashlib.sha256()
    done = 0
    request = urllib.request.Request(url, headers={"User-Agent": "armsbot"})  # noqa: S310
    with (
        urllib.request.urlopen(request, timeout=timeout) as response,  # noqa: S310
        target.open("wb") as out,
    ):
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadFailed(url, f"the file is {total:,} bytes, more than {max_bytes:,}")
        while chunk := response.read(CHUNK):
            done += len(chunk)
            if done > max_bytes:
                raise DownloadFailed(url, f"the file is more than {max_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise DownloadFailed(url, f"the download took more than {timeout:g} s")
            digest.update(chunk)
            out.write(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()
