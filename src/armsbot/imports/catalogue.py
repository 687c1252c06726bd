"""The datasets ``armsbot db import`` knows: which adapter a command means, and where its file is.

``db import sii [PATH]`` and ``db import targets [PATH | pegasus | candiru] [--product NAME]``:
with a PATH the file is read from disk; without one the pinned file is downloaded from its public
repository (or ``--url`` with ``--sha256``) and checked before anything is imported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armsbot.imports import sii, targets
from armsbot.imports.core import Adapter, slug
from armsbot.imports.download import PinnedFile

KINDS = ("sii", "targets")


class ImportRefused(Exception):
    """A ``db import`` that names no file the import can use; the message says what to give."""


@dataclass(frozen=True, slots=True)
class Download:
    """A file to fetch before importing it."""

    url: str
    sha256: str
    filename: str


@dataclass(frozen=True, slots=True)
class ImportJob:
    """What one ``db import`` does: the adapter, and the file on disk or the file to fetch."""

    adapter: Adapter[Any]
    path: Path | None = None
    download: Download | None = None
    by_hand: str = ""  # the command that imports the file once fetched by hand


def _download(
    pinned: PinnedFile | None, url: str | None, sha256: str | None, base: str
) -> Download:
    if url is not None:
        assert sha256 is not None  # the command line asks for both
        return Download(url, sha256, url.rstrip("/").rsplit("/", 1)[-1] or "download")
    assert pinned is not None
    return Download(pinned.url(base), pinned.sha256, pinned.filename)


def sii_job(path: Path | None, url: str | None, sha256: str | None, base: str) -> ImportJob:
    """``db import sii``: a file, or the pinned (or given) download."""
    by_hand = "armsbot db import sii PATH"
    if path is not None:
        return ImportJob(sii.ADAPTER, path=path, by_hand=by_hand)
    return ImportJob(
        sii.ADAPTER, download=_download(sii.PINNED, url, sha256, base), by_hand=by_hand
    )


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _published_or_product(
    published: targets.TargetFile | None, product: str | None, what: str
) -> targets.TargetsAdapter:
    if published is not None:
        if product is not None and slug(product) != slug(published.product):
            msg = (
                f"{what} is Granitt's {published.product} file; leave out --product or give"
                f" --product {published.product}"
            )
            raise ImportRefused(msg)
        return targets.TargetsAdapter(published.product, published)
    if product is None or not product.strip():
        msg = (
            f"{what} is not one of Granitt's published target files (pegasus, candiru): say which"
            " product its rows are about, such as --product Pegasus"
        )
        raise ImportRefused(msg)
    return targets.TargetsAdapter(product)


def targets_job(
    which: str | None, product: str | None, url: str | None, sha256: str | None, base: str
) -> ImportJob:
    """``db import targets``: a file (product from --product or its checksum), or a download."""
    if url is not None:
        assert sha256 is not None
        adapter = _published_or_product(targets.pinned_by_checksum(sha256), product, url)
        return ImportJob(
            adapter,
            download=_download(None, url, sha256, base),
            by_hand=f"armsbot db import targets PATH --product {adapter.product}",
        )
    if which is None:
        msg = "Say which file: `targets pegasus`, `targets candiru`, or the path of a target file"
        raise ImportRefused(msg)
    published = targets.PINNED.get(which.strip().lower())
    if published is not None:
        adapter = _published_or_product(published, product, which)
        return ImportJob(
            adapter,
            download=_download(published.pinned, None, None, base),
            by_hand="armsbot db import targets PATH",
        )
    path = Path(which)
    if not path.is_file():
        msg = f"{which} is neither a file nor one of the published target files (pegasus, candiru)"
        raise ImportRefused(msg)
    adapter = _published_or_product(
        targets.pinned_by_checksum(_file_sha256(path)), product, str(path)
    )
    return ImportJob(adapter, path=path)


def removal(kind: str, which: str | None, product: str | None) -> str:
    """The dataset ``db import KIND ... --remove`` removes."""
    if kind == "sii":
        return sii.DATASET
    published = targets.PINNED.get((which or "").strip().lower())
    if published is not None:
        return targets.TargetsAdapter(published.product, published).info.dataset
    if which is None and product is not None and product.strip():
        return targets.TargetsAdapter(product).info.dataset
    msg = (
        "Say which target dataset to remove: `targets pegasus --remove`, `targets candiru"
        " --remove`, or `targets --product NAME --remove`"
    )
    raise ImportRefused(msg)
