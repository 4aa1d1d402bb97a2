"""Real clean videos for users with the internet: download, verify, extract - safely.

RONIN, Turtle and FastDVDnet train on DAVIS-2017 (90 sequences of 480p frames) and test on DAVIS
and Set8. The course runs on bundled stills (:mod:`ronin_lite.data.scenes`); this module brings
the real videos to a user who can download them, as a folder that
:func:`ronin_lite.data.scenes.scenes_from` reads (one video scene per sequence).

What :func:`fetch` guarantees, because an 800 MB download over a flaky connection will be
interrupted and a half-extracted folder must never pass for a complete one:

* **resumable**: the download goes to ``<archive>.part``; a rerun asks the server for the rest
  (an HTTP ``Range`` request) and starts over when the server ignores it. ``file://`` URLs have no
  ranges and are simply read again;
* **verified**: the SHA-256 is checked before the ``.part`` file is renamed. A mismatch removes
  the file and raises. When the publisher gives no checksum, the first download's is recorded in
  ``<root>/checksums.json`` and every later download or user is checked against it;
* **atomic extraction**: zip or tar members are checked against path traversal (absolute names,
  ``..``, links leaving the folder), extracted into a temporary folder that is renamed into place,
  and a marker file is written last: a folder without the marker is redone, never trusted;
* **offline-aware**: no network fails at once with what to do instead (``archive=`` a copy
  fetched elsewhere).

The registry (:data:`DATASETS`) holds DAVIS-2017 trainval 480p, whose SHA-256 is published in
TensorFlow Datasets' ``tensorflow_datasets/video/davis/checksums.tsv`` (832,766,765 bytes), the
DAVIS-2017 test-dev 480p set (FastDVDnet's "DAVIS testset"; no published checksum: recorded on
first download), and Set8, which has no direct URL (FastDVDnet shares it as a Google Drive
folder): download it by hand and pass ``archive=``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..io import write_json_atomic
from .scenes import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

CHUNK = 1 << 20  # bytes per read while downloading or hashing
TIMEOUT_S = 30.0  # seconds to wait for a server before giving up
MARKER = ".ronin-fetch-complete.json"  # written last inside a complete extraction
CHECKSUMS = "checksums.json"  # recorded checksums, beside the data


@dataclass(frozen=True)
class DatasetSpec:
    """One downloadable data set of clean videos."""

    name: str
    title: str
    url: str | None  # None: no stable direct URL, use archive=
    sha256: str | None  # the publisher's (or a published) checksum; None when none is published
    checksum_source: str  # where sha256 comes from, or why there is none
    frames_dir: str | None  # folder of sequences inside the extraction; None: found automatically
    homepage: str
    size: int | None = None  # bytes of the archive, when known


DATASETS: dict[str, DatasetSpec] = {
    "davis": DatasetSpec(
        name="davis",
        title="DAVIS-2017 trainval, 480p (90 sequences, RONIN/Turtle training data)",
        url="https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip",
        sha256="e3d0b5b77c3d031b000a19e0e25e3e2cac65d183755601bc2cf066df1a2aa492",
        checksum_source="TensorFlow Datasets, tensorflow_datasets/video/davis/checksums.tsv",
        frames_dir="DAVIS/JPEGImages/480p",
        homepage="https://davischallenge.org/davis2017/code.html",
        size=832_766_765,
    ),
    "davis-test-dev": DatasetSpec(
        name="davis-test-dev",
        title="DAVIS-2017 test-dev, 480p (30 sequences, FastDVDnet's DAVIS test set)",
        url="https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-test-dev-480p.zip",
        sha256=None,
        checksum_source="none published: recorded in checksums.json on first download",
        frames_dir="DAVIS/JPEGImages/480p",
        homepage="https://davischallenge.org/davis2017/code.html",
    ),
    "set8": DatasetSpec(
        name="set8",
        title="Set8 (4 Derf + 4 GoPro sequences, 960x540, FastDVDnet's test set)",
        url=None,
        sha256=None,
        checksum_source="none published: recorded in checksums.json on first use",
        frames_dir=None,
        homepage="https://github.com/m-tassano/fastdvdnet#testsets",
    ),
}


class FetchError(RuntimeError):
    """A data set could not be fetched; the message says what to do."""


class OfflineError(FetchError):
    """The server could not be reached at all (no network, DNS failure, refused connection)."""


class ChecksumError(FetchError):
    """The archive's SHA-256 is not the expected one."""


# ---------------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------------
def sha256_of(path: str | os.PathLike, progress: bool = False) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = os.path.getsize(path)
    with open(path, "rb") as f, _bar(size, 0, f"sha256 {Path(path).name}", progress) as bar:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _bar(total: int | None, initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True,
                unit_divisor=1024, disable=not enabled, leave=False)


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise FetchError(f"{path} is not valid JSON ({exc}); fix or delete it") from exc


def _spec(name: str, url: str | None, archive: str | os.PathLike | None) -> DatasetSpec:
    if name in DATASETS:
        return DATASETS[name]
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise ValueError(
            f"data set names are lower-case letters, digits, '_', '-', '.'; got {name!r}")
    if url is None and archive is None:
        raise KeyError(
            f"unknown data set {name!r}; known: {sorted(DATASETS)} (or give url= or archive= "
            "to fetch a data set of your own under this name)"
        )
    return DatasetSpec(name=name, title=f"your data set {name!r}", url=None, sha256=None,
                       checksum_source="none: recorded in checksums.json on first use",
                       frames_dir=None, homepage="")


def _archive_name(spec: DatasetSpec, url: str | None) -> str:
    source = url or spec.url or ""
    base = PurePosixPath(urllib.parse.urlparse(source).path).name
    return base or f"{spec.name}.zip"


# ---------------------------------------------------------------------------------------------
# Download
# ---------------------------------------------------------------------------------------------
def _offline(url: str, name: str, filename: str, reason: object) -> OfflineError:
    return OfflineError(
        f"cannot reach {url} ({reason}). This machine seems to be offline, or the server is "
        f"down. Download {filename} on a machine with the internet, copy it here, and run\n"
        f"    python data_scripts/fetch_data.py {name} --archive /path/to/{filename}\n"
        f"(in Python: fetch({name!r}, archive='/path/to/{filename}'))"
    )


def _open(url: str, offset: int, name: str, filename: str):
    """Open ``url``, asking for bytes from ``offset`` on when resuming over HTTP(S)."""
    request = urllib.request.Request(url, headers={"User-Agent": "ronin-lite-fetch"})
    if offset and urllib.parse.urlparse(url).scheme in ("http", "https"):
        request.add_header("Range", f"bytes={offset}-")
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError:
        raise  # the server answered: not an offline problem
    except urllib.error.URLError as exc:
        if urllib.parse.urlparse(url).scheme == "file":
            raise FetchError(f"cannot read {url}: {exc.reason}") from exc
        raise _offline(url, name, filename, exc.reason) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise _offline(url, name, filename, exc) from exc


def download(url: str, part: Path, name: str, progress: bool = True) -> None:
    """Download ``url`` into ``part``, continuing a partial file when the server allows."""
    filename = part.name.removesuffix(".part")
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, name, filename)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range not satisfiable: the part is already complete
            return
        raise FetchError(f"{url} answered HTTP {exc.code} {exc.reason}") from exc
    with response:
        resumed = offset > 0 and getattr(response, "status", None) == 206
        if resumed:
            content_range = response.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                raise FetchError(
                    f"{url} resumed at the wrong place (Content-Range {content_range!r}, expected "
                    f"bytes {offset}-); delete {part} and retry"
                )
        else:
            offset = 0  # no ranges (file://, or a server that ignores them): start over
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length else None
        with open(part, "ab" if resumed else "wb") as f, \
                _bar(total, offset, f"download {filename}", progress) as bar:
            try:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
            except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                raise _interrupted(url, part, exc) from exc
    if total is not None and part.stat().st_size < total:
        raise _interrupted(url, part, f"{part.stat().st_size} of {total} bytes arrived")


def _interrupted(url: str, part: Path, why: object) -> FetchError:
    return FetchError(f"the download of {url} was interrupted ({why}); run again to resume "
                      f"from {part}")


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------
def _safe_relative(member: str, archive: Path) -> PurePosixPath:
    """The member's path, refused when it is absolute or climbs out with '..'."""
    path = PurePosixPath(member.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", member):
        raise FetchError(
            f"refusing to extract {archive.name}: member {member!r} would be written outside "
            "the target folder (path traversal); the archive is malformed or malicious"
        )
    return path


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            _safe_relative(info.filename, archive)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a symbolic link
                raise FetchError(f"refusing to extract {archive.name}: member {info.filename!r} "
                                 "is a symbolic link")
        z.extractall(dest)


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as t:
        members = t.getmembers()
        for m in members:
            _safe_relative(m.name, archive)
            if not (m.isfile() or m.isdir()):
                raise FetchError(f"refusing to extract {archive.name}: member {m.name!r} is a "
                                 "link or a device, not a file or folder")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.10.12: a second line of defence
            t.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - older Pythons; members were checked above
            t.extractall(dest, members=members)


def extract(archive: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Extract a zip or tar(.gz/.bz2/.xz) archive into ``dest``, refusing path traversal."""
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        _extract_zip(archive, dest)
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, dest)
    else:
        raise FetchError(f"{archive} is neither a zip nor a tar archive")


def _has_media(folder: Path, extensions: Iterable[str]) -> bool:
    exts = tuple(extensions)
    return any(p.is_file() and p.suffix.lower() in exts for p in folder.iterdir())


def find_scene_folder(root: Path) -> Path:
    """The shallowest folder under ``root`` that holds images, videos or sequence sub-folders."""
    queue = [root]
    while queue:
        folder = queue.pop(0)
        subfolders = sorted(p for p in folder.iterdir()
                            if p.is_dir() and not p.name.startswith("."))
        if _has_media(folder, IMAGE_EXTENSIONS + VIDEO_EXTENSIONS) or any(
                _has_media(s, IMAGE_EXTENSIONS) for s in subfolders):
            return folder
        queue.extend(subfolders)
    raise FetchError(f"no images, videos or sequence folders anywhere under {root}")


def _frames_in(extracted: Path, spec: DatasetSpec, archive: Path) -> Path:
    if spec.frames_dir is None:
        return find_scene_folder(extracted)
    frames = extracted / spec.frames_dir
    if not frames.is_dir():
        raise FetchError(
            f"{archive.name} does not contain {spec.frames_dir}/ - is it the {spec.title} "
            "archive? Nothing was kept."
        )
    return frames


# ---------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------
def _expected_sha256(spec: DatasetSpec, sha256: str | None, recorded: dict) -> str | None:
    """The user's checksum, else the published one, else the one recorded on first download."""
    if sha256 is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
        return sha256.lower()
    return spec.sha256 or recorded.get(spec.name, {}).get("sha256")


def _verify(path: Path, expected: str | None, progress: bool, remove_on_mismatch: bool) -> str:
    actual = sha256_of(path, progress)
    if expected is not None and actual != expected:
        if remove_on_mismatch:
            path.unlink(missing_ok=True)
        raise ChecksumError(
            f"SHA-256 mismatch for {path.name}: expected {expected}, got {actual}. "
            + ("The file was removed; run again to download it afresh. " if remove_on_mismatch
               else "The file was left as is. ")
            + "If the publisher changed the file on purpose, pass the new checksum "
            "(--sha256 / sha256=)."
        )
    return actual


def _record(root: Path, name: str, sha256: str, size: int, origin: str) -> None:
    path = root / CHECKSUMS
    data = _read_json(path)
    if data.get(name, {}).get("sha256") == sha256:
        return
    data[name] = {"sha256": sha256, "size": size, "origin": origin,
                  "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_json_atomic(path, data)


def _complete(target: Path, wanted: str | None) -> Path | None:
    """The frames folder of a finished extraction, else None.

    The marker is written only after a verified install, so it is trusted as is; a checksum the
    user asks for explicitly (``wanted``) must match the one it was installed from.
    """
    marker = _read_json(target / MARKER) if target.is_dir() else {}
    if not marker or (wanted is not None and marker.get("sha256") != wanted):
        return None
    frames = target / marker["frames"]
    return frames if frames.is_dir() else None


def _install(archive: Path, target: Path, spec: DatasetSpec, digest: str, origin: str) -> Path:
    """Extract into a temporary folder, rename it into place, write the marker last."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.extracting-", dir=target.parent))
    try:
        extract(archive, tmp)
        frames = _frames_in(tmp, spec, archive).relative_to(tmp)
        if target.exists():  # a stale, unmarked extraction: redo it
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_json_atomic(target / MARKER, {"name": spec.name, "sha256": digest, "origin": origin,
                                         "frames": frames.as_posix()})
    return target / frames


def fetch(name: str, root: str | os.PathLike = "data/raw", url: str | None = None,
          sha256: str | None = None, progress: bool = True,
          archive: str | os.PathLike | None = None, keep_archive: bool = True) -> Path:
    """Download (or take ``archive``), verify and extract data set ``name``; the frames folder.

    The result is the folder to use as clean scenes, e.g.
    ``data/raw/davis/DAVIS/JPEGImages/480p``: pass it to ``scenes_from(path)``.

    ``url`` overrides the registry's (a mirror); ``sha256`` overrides the expected checksum;
    ``archive`` uses a local zip/tar instead of downloading (verified when a checksum is known,
    never modified). An already complete, verified extraction returns at once. ``keep_archive``
    keeps the downloaded archive beside the data (so a re-extraction needs no download).
    Unknown names work with ``url`` or ``archive`` (a data set of your own).
    """
    spec = _spec(name, url, archive)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    expected = _expected_sha256(spec, sha256, _read_json(root / CHECKSUMS))
    target = root / spec.name
    done = _complete(target, sha256 and sha256.lower())
    if done is not None:
        return done
    if archive is not None:
        local = Path(archive)
        if not local.is_file():
            raise FileNotFoundError(f"no archive at {local}")
        digest = _verify(local, expected, progress, remove_on_mismatch=False)
        _record(root, spec.name, digest, local.stat().st_size, f"archive {local.name}")
        return _install(local, target, spec, digest, f"archive {local.name}")
    source = url or spec.url
    if source is None:
        raise FetchError(
            f"{spec.title} has no direct download URL (see {spec.homepage}). Download the "
            f"archive by hand, then run\n    python data_scripts/fetch_data.py {spec.name} "
            "--archive /path/to/file.zip"
        )
    final = root / _archive_name(spec, source)
    if final.is_file():  # kept from an earlier run: verify again before trusting it
        digest = _verify(final, expected, progress, remove_on_mismatch=True)
    else:
        part = final.with_name(final.name + ".part")
        download(source, part, spec.name, progress)
        digest = _verify(part, expected, progress, remove_on_mismatch=True)
        os.replace(part, final)  # only a verified download gets the archive's name
    _record(root, spec.name, digest, final.stat().st_size, source)
    frames = _install(final, target, spec, digest, source)
    if not keep_archive:
        final.unlink()
    return frames


# ---------------------------------------------------------------------------------------------
# Command line: ronin-lite fetch (python data_scripts/fetch_data.py runs the same)
# ---------------------------------------------------------------------------------------------
def _list() -> None:
    for spec in DATASETS.values():
        print(f"{spec.name:16s} {spec.title}")
        print(f"{'':16s} url:      {spec.url or '(none: download by hand, use --archive)'}")
        print(f"{'':16s} sha256:   {spec.sha256 or '-'} ({spec.checksum_source})")
        print(f"{'':16s} homepage: {spec.homepage}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ronin-lite fetch", description="Fetch a real clean-video data set (DAVIS-2017, ...): "
        "resumable download, SHA-256 verified, extracted atomically.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  ronin-lite fetch --list\n  ronin-lite fetch davis --root data/raw\n"
               "  ronin-lite fetch davis --archive ~/Downloads/DAVIS-2017-trainval-480p.zip")
    parser.add_argument("name", nargs="?", help=f"data set: one of {sorted(DATASETS)}")
    parser.add_argument("--root", default="data/raw", help="where archives and data go")
    parser.add_argument("--url", help="download from this URL instead (a mirror)")
    parser.add_argument("--sha256", help="expected SHA-256 of the archive (overrides)")
    parser.add_argument("--archive", help="use this local zip/tar instead of downloading")
    parser.add_argument("--delete-archive", action="store_true",
                        help="delete the downloaded archive after extraction")
    parser.add_argument("--list", action="store_true", help="list the known data sets")
    args = parser.parse_args(argv)
    if args.list:
        _list()
        return 0
    if not args.name:
        parser.error("give a data set name (see --list)")
    try:
        frames = fetch(args.name, root=args.root, url=args.url, sha256=args.sha256,
                       progress=True, archive=args.archive, keep_archive=not args.delete_archive)
    except (FetchError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    from .scenes import folder_scenes

    scenes = folder_scenes(frames, source=args.name)
    print(f"{len(scenes)} scenes ({sum(s.kind == 'video' for s in scenes)} videos) in {frames}")
    print("use them as clean scenes:")
    print("    from ronin_lite.data.scenes import scenes_from")
    print(f"    scenes = scenes_from({str(frames)!r})")
    return 0
