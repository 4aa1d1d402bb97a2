"""Fetching real data sets: resumable download, checksums, safe atomic extraction, offline."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from ronin_lite.data import fetch as F
from ronin_lite.data.scenes import scenes_from

SEQUENCES = ("bear", "boat")


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    """Loopback requests must not be routed through a proxy configured on the machine."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def _davis_like_zip(path: Path) -> bytes:
    """2 sequences x 3 small jpgs in DAVIS's layout; returns the zip's bytes."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("DAVIS/ImageSets/2017/train.txt", "\n".join(SEQUENCES) + "\n")
        for seq in SEQUENCES:
            for i in range(3):
                image = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
                ok, jpg = cv2.imencode(".jpg", image)
                assert ok
                z.writestr(f"DAVIS/JPEGImages/480p/{seq}/{i:05d}.jpg", jpg.tobytes())
    return path.read_bytes()


@pytest.fixture()
def davis_zip(tmp_path) -> tuple[Path, str]:
    path = tmp_path / "src" / "DAVIS-2017-trainval-480p.zip"
    path.parent.mkdir()
    data = _davis_like_zip(path)
    return path, hashlib.sha256(data).hexdigest()


class _Server:
    """A loopback HTTP server for one file, with optional Range support; records Range headers."""

    def __init__(self, payload: bytes, honour_range: bool = True):
        seen: list[str | None] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                asked = self.headers.get("Range")
                seen.append(asked)
                start = 0
                if asked and honour_range:
                    start = int(asked.removeprefix("bytes=").split("-")[0])
                    if start >= len(payload):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    last, total = len(payload) - 1, len(payload)
                    self.send_header("Content-Range", f"bytes {start}-{last}/{total}")
                else:
                    self.send_response(200)
                body = payload[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.seen = seen
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/DAVIS-2017-trainval-480p.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "_Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _assert_two_sequences(frames: Path) -> None:
    scenes = scenes_from(frames)
    assert [s.name for s in scenes] == list(SEQUENCES)
    assert all(s.kind == "video" and s.num_frames == 3 for s in scenes)
    assert scenes[0].load().shape == (3, 24, 32, 3)


# ------------------------------------------------------------------------------ happy paths
def test_fetch_file_url_with_correct_checksum_extracts_davis_layout(tmp_path, davis_zip):
    archive, digest = davis_zip
    root = tmp_path / "raw"
    frames = F.fetch("davis", root=root, url=archive.as_uri(), sha256=digest, progress=False)
    assert frames == root / "davis" / "DAVIS" / "JPEGImages" / "480p"
    _assert_two_sequences(frames)
    assert (root / "davis" / F.MARKER).is_file()
    assert (root / archive.name).is_file() and not list(root.glob("*.part"))
    assert json.loads((root / F.CHECKSUMS).read_text())["davis"]["sha256"] == digest
    # Already complete: returns at once, without touching the (now missing) source.
    archive.unlink()
    assert F.fetch("davis", root=root, url=archive.as_uri(), progress=False) == frames


def test_fetch_local_archive_is_verified_and_left_in_place(tmp_path, davis_zip):
    archive, digest = davis_zip
    frames = F.fetch("davis", root=tmp_path / "raw", archive=archive, sha256=digest,
                     progress=False)
    _assert_two_sequences(frames)
    assert archive.is_file()


def test_unmarked_extraction_is_redone_not_trusted(tmp_path, davis_zip):
    archive, digest = davis_zip
    root = tmp_path / "raw"
    (root / "davis" / "DAVIS" / "JPEGImages" / "480p").mkdir(parents=True)  # interrupted run
    frames = F.fetch("davis", root=root, archive=archive, sha256=digest, progress=False)
    _assert_two_sequences(frames)


def test_data_set_without_published_checksum_records_it_and_checks_later_runs(tmp_path, davis_zip):
    archive, digest = davis_zip
    root = tmp_path / "raw"
    frames = F.fetch("mine", root=root, url=archive.as_uri(), progress=False)
    assert frames == root / "mine" / "DAVIS" / "JPEGImages" / "480p"  # found automatically
    assert json.loads((root / F.CHECKSUMS).read_text())["mine"]["sha256"] == digest
    shutil.rmtree(root / "mine")  # force a re-install from another archive
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        jpg = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1]
        z.writestr("seq/00000.jpg", jpg.tobytes())
    with pytest.raises(F.ChecksumError, match=digest):
        F.fetch("mine", root=root, archive=other, progress=False)
    assert other.is_file()  # a user's own file is never deleted


# ------------------------------------------------------------------------------ failures
def test_wrong_checksum_fails_and_leaves_nothing_looking_complete(tmp_path, davis_zip):
    archive, _ = davis_zip
    root = tmp_path / "raw"
    with pytest.raises(F.ChecksumError, match="mismatch"):
        F.fetch("davis", root=root, url=archive.as_uri(), sha256="0" * 64, progress=False)
    assert not (root / "davis").exists()
    assert not (root / archive.name).exists() and not list(root.glob("*.part"))


def test_registry_checksum_is_used_when_none_is_given(tmp_path, davis_zip):
    archive, _ = davis_zip  # not the real DAVIS archive: the published checksum must refuse it
    with pytest.raises(F.ChecksumError, match=F.DATASETS["davis"].sha256):
        F.fetch("davis", root=tmp_path / "raw", url=archive.as_uri(), progress=False)


def test_unreachable_server_fails_fast_with_offline_instructions(tmp_path):
    start = time.perf_counter()
    with pytest.raises(F.OfflineError, match=r"(?s)offline.*--archive"):
        F.fetch("davis", root=tmp_path / "raw", url="http://127.0.0.1:9/davis.zip",
                progress=False)
    assert time.perf_counter() - start < 5


def test_data_set_without_url_asks_for_an_archive(tmp_path):
    with pytest.raises(F.FetchError, match="--archive"):
        F.fetch("set8", root=tmp_path / "raw", progress=False)


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/evil.txt", "DAVIS/../../evil.txt"])
def test_zip_with_path_traversal_member_is_refused(tmp_path, member):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("DAVIS/JPEGImages/480p/a/00000.jpg", b"x")
        z.writestr(zipfile.ZipInfo(member), b"gotcha")
    root = tmp_path / "raw"
    with pytest.raises(F.FetchError, match="path traversal"):
        F.fetch("davis", root=root, archive=archive, sha256=hashlib.sha256(
            archive.read_bytes()).hexdigest(), progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (root / "davis").exists()
    assert not [p for p in root.iterdir() if p.name.startswith(".davis.extracting")]


def test_tar_with_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        link = tarfile.TarInfo("DAVIS/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc"
        t.addfile(link)
        info = tarfile.TarInfo("DAVIS/JPEGImages/480p/a/00000.jpg")
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(F.FetchError, match="link"):
        F.extract(archive, tmp_path / "out")


# ------------------------------------------------------------------------------ resume
def test_partial_download_is_resumed_with_a_range_request(tmp_path, davis_zip):
    archive, digest = davis_zip
    payload = archive.read_bytes()
    root = tmp_path / "raw"
    root.mkdir()
    half = len(payload) // 2
    (root / (archive.name + ".part")).write_bytes(payload[:half])
    with _Server(payload) as server:
        frames = F.fetch("davis", root=root, url=server.url, sha256=digest, progress=False)
    assert server.seen == [f"bytes={half}-"]
    _assert_two_sequences(frames)
    assert (root / archive.name).read_bytes() == payload


def test_server_ignoring_ranges_restarts_the_download(tmp_path, davis_zip):
    archive, digest = davis_zip
    payload = archive.read_bytes()
    root = tmp_path / "raw"
    root.mkdir()
    (root / (archive.name + ".part")).write_bytes(b"garbage that must not be kept")
    with _Server(payload, honour_range=False) as server:
        F.fetch("davis", root=root, url=server.url, sha256=digest, progress=False)
    assert (root / archive.name).read_bytes() == payload


def test_corrupt_partial_download_fails_the_checksum_and_is_removed(tmp_path, davis_zip):
    archive, digest = davis_zip
    payload = archive.read_bytes()
    root = tmp_path / "raw"
    root.mkdir()
    part = root / (archive.name + ".part")
    part.write_bytes(b"X" * 100)  # wrong first bytes; the server will append the rest
    with _Server(payload) as server, pytest.raises(F.ChecksumError):
        F.fetch("davis", root=root, url=server.url, sha256=digest, progress=False)
    assert not part.exists() and not (root / "davis").exists()


# ------------------------------------------------------------------------------ CLI
def test_cli_lists_data_sets_and_fetches_from_an_archive(tmp_path, davis_zip, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fetch_data", Path(__file__).parents[1] / "data_scripts" / "fetch_data.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    assert cli.main(["--list"]) == 0
    assert "DAVIS-2017-trainval-480p.zip" in capsys.readouterr().out
    archive, digest = davis_zip
    assert cli.main(["davis", "--root", str(tmp_path / "raw"), "--archive", str(archive),
                     "--sha256", digest]) == 0
    out = capsys.readouterr().out
    assert "2 scenes (2 videos)" in out and "scenes_from(" in out
    assert cli.main(["davis", "--root", str(tmp_path / "r2"), "--archive", str(archive),
                     "--sha256", "1" * 64]) == 1
    assert "mismatch" in capsys.readouterr().err
