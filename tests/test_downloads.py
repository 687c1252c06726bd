"""Downloads that verify themselves: the pinned files served from 127.0.0.1, never the internet."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from armsbot.imports import sii, targets
from armsbot.imports.download import DownloadFailed, download
from tests.conftest import run_cli, shared_file


class Files:
    """What the local server answers: bytes by path, and paths that stall before answering."""

    def __init__(self) -> None:
        self.by_path: dict[str, bytes] = {}
        self.stalling: set[str] = set()
        self.requests: list[str] = []
        self.done = threading.Event()  # the test is over: stalled requests end unanswered


@pytest.fixture
def server() -> Iterator[tuple[str, Files]]:
    files = Files()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            files.requests.append(self.path)
            if self.path in files.stalling:
                files.done.wait()
                return
            body = files.by_path.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    # shutdown() waits for serve_forever's next look at its flag: every 0.5 s by default.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    finally:
        files.done.set()
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (a machine with no network answers alike)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def armsbot(*args: str, database: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, database=database, env=env)


def serve_pinned(files: Files) -> None:
    files.by_path["/" + sii.PINNED.path] = shared_file("datasets/sii/transfers.json").read_bytes()
    for name, relative in (
        ("pegasus", "datasets/granitt/data-pegasus-victims.csv"),
        ("candiru", "datasets/granitt/data-candiru-victims.csv"),
    ):
        files.by_path["/" + targets.PINNED[name].pinned.path] = shared_file(relative).read_bytes()


def test_db_import_sii_without_a_path_downloads_checks_and_imports_the_688_records(
    server: tuple[str, Files], db_copy: Path
) -> None:
    base, files = server
    serve_pinned(files)
    result = armsbot("db", "import", "sii", database=db_copy, ARMSBOT_DATASET_BASE_URL=base)
    assert result.returncode == 0, result.stderr
    url = f"{base}/{sii.PINNED.path}"
    assert result.stdout.startswith(f"Imported {url} into {db_copy}")
    assert "records read: 688" in result.stdout
    assert f"file sha256: {sii.PINNED.sha256}" in result.stdout
    assert files.requests == ["/" + sii.PINNED.path]
    listing = armsbot("db", "datasets", database=db_copy)
    assert f"from {url}\n" in listing.stdout
    check = armsbot("db", "check", "--strict", database=db_copy)
    assert check.returncode == 0, check.stdout


def test_a_tampered_download_is_refused_in_one_line_and_changes_nothing(
    server: tuple[str, Files], db_copy: Path
) -> None:
    base, files = server
    serve_pinned(files)
    path = "/" + sii.PINNED.path
    files.by_path[path] = files.by_path[path].replace(b"Uganda", b"Ugandb", 1)
    before = db_copy.read_bytes()
    result = armsbot("db", "import", "sii", database=db_copy, ARMSBOT_DATASET_BASE_URL=base)
    assert result.returncode == 4
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    tampered = hashlib.sha256(files.by_path[path]).hexdigest()
    assert line == (
        f"The file's sha256 is {tampered}, not the expected {sii.PINNED.sha256}: it was not"
        f" imported; nothing was changed. Fetch the file by hand from {base}{path} and run"
        " `armsbot db import sii PATH`."
    )
    assert db_copy.read_bytes() == before


def test_offline_the_command_names_the_address_to_fetch_by_hand(db_copy: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    before = db_copy.read_bytes()
    result = armsbot("db", "import", "sii", database=db_copy, ARMSBOT_DATASET_BASE_URL=base)
    assert result.returncode == 4
    (line,) = result.stderr.splitlines()
    assert line.startswith("Could not download (")
    assert f"Fetch the file by hand from {base}/{sii.PINNED.path} and run" in line
    assert "nothing was changed" in line
    assert db_copy.read_bytes() == before
    targets_offline = armsbot(
        "db", "import", "targets", "pegasus", database=db_copy, ARMSBOT_DATASET_BASE_URL=base
    )
    assert targets_offline.returncode == 4
    assert f"{base}/{targets.PINNED['pegasus'].pinned.path} and run" in targets_offline.stderr
    assert "`armsbot db import targets PATH`" in targets_offline.stderr


def test_a_server_that_does_not_answer_in_time_is_given_up(
    server: tuple[str, Files], db_copy: Path
) -> None:
    base, files = server
    serve_pinned(files)
    files.stalling.add("/" + sii.PINNED.path)
    result = armsbot(
        "db",
        "import",
        "sii",
        database=db_copy,
        ARMSBOT_DATASET_BASE_URL=base,
        ARMSBOT_DOWNLOAD_TIMEOUT_SECONDS="0.05",  # the server never answers: always late
    )
    assert result.returncode == 4
    assert "Could not download (timed out)" in result.stderr


def test_targets_pegasus_and_candiru_download_their_pinned_files(
    server: tuple[str, Files], db_copy: Path
) -> None:
    base, files = server
    serve_pinned(files)
    for name, claims in (("pegasus", 27), ("candiru", 2)):
        result = armsbot(
            "db", "import", "targets", name, database=db_copy, ARMSBOT_DATASET_BASE_URL=base
        )
        assert result.returncode == 0, result.stderr
        assert f"claims: {claims} added" in result.stdout
        assert f"dataset: targets-{name}" in result.stdout


def test_url_needs_its_sha256_and_is_checked_against_it(
    server: tuple[str, Files], db_copy: Path
) -> None:
    base, files = server
    mirror = "/mirror/data-pegasus-victims.csv"
    files.by_path[mirror] = shared_file("datasets/granitt/data-pegasus-victims.csv").read_bytes()
    pegasus = targets.PINNED["pegasus"].pinned.sha256
    alone = armsbot("db", "import", "targets", "--url", base + mirror, database=db_copy)
    assert alone.returncode == 2
    assert alone.stderr.strip() == (
        "Give --url and --sha256 together: a download is imported only if it matches."
    )
    # The checksum says which published file it is: its product needs no --product.
    given = armsbot(
        "db", "import", "targets", "--url", base + mirror, "--sha256", pegasus, database=db_copy
    )
    assert given.returncode == 0, given.stderr
    assert "claims: 27 added" in given.stdout
    wrong = armsbot(
        "db", "import", "sii", "--url", base + mirror, "--sha256", "ab" * 32, database=db_copy
    )
    assert wrong.returncode == 4
    assert f"not the expected {'ab' * 32}" in wrong.stderr
    bad = armsbot("db", "import", "sii", "--url", "ftp://x/y", "--sha256", "0", database=db_copy)
    assert bad.returncode == 2
    assert "give an http:// or https:// address" in bad.stderr


def test_download_reports_progress_and_removes_a_file_that_does_not_match(
    server: tuple[str, Files], tmp_path: Path
) -> None:
    base, files = server
    body = b"x" * 200_000
    files.by_path["/f"] = body
    seen: list[tuple[int, int | None]] = []
    target = tmp_path / "f"
    download(
        base + "/f",
        hashlib.sha256(body).hexdigest(),
        target,
        timeout=30,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert target.read_bytes() == body
    assert seen[-1] == (len(body), len(body))
    with pytest.raises(DownloadFailed) as refused:
        download(base + "/f", "0" * 64, target, timeout=30)
    assert refused.value.url == base + "/f"
    assert not target.exists()
    with pytest.raises(DownloadFailed) as too_big:
        download(base + "/f", "0" * 64, target, timeout=30, max_bytes=1000)
    assert too_big.value.reason == "the file is 200,000 bytes, more than 1,000"
    with pytest.raises(DownloadFailed) as missing:
        download(base + "/nothing", "0" * 64, target, timeout=30)
    assert missing.value.reason == "the server answered 404 Not Found"
