"""Fetch a real clean-video data set (DAVIS-2017, ...) for ronin-lite, with the internet.

    python data_scripts/fetch_data.py --list
    python data_scripts/fetch_data.py davis --root data/raw
    python data_scripts/fetch_data.py davis --archive ~/Downloads/DAVIS-2017-trainval-480p.zip
    python data_scripts/fetch_data.py davis-test-dev --sha256 <64 hex digits>

Downloads resume where they stopped, archives are verified by SHA-256 (published, given with
``--sha256``, or recorded in ``<root>/checksums.json`` on first download) and extracted atomically.
See ``ronin_lite.data.fetch`` for the details.
"""

from __future__ import annotations

import argparse
import sys

from ronin_lite.data.fetch import DATASETS, FetchError, fetch
from ronin_lite.data.scenes import folder_scenes


def _list() -> None:
    for spec in DATASETS.values():
        print(f"{spec.name:16s} {spec.title}")
        print(f"{'':16s} url:      {spec.url or '(none: download by hand, use --archive)'}")
        print(f"{'':16s} sha256:   {spec.sha256 or '-'} ({spec.checksum_source})")
        print(f"{'':16s} homepage: {spec.homepage}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
    scenes = folder_scenes(frames, source=args.name)
    print(f"{len(scenes)} scenes ({sum(s.kind == 'video' for s in scenes)} videos) in {frames}")
    print("use them as clean scenes:")
    print("    from ronin_lite.data.scenes import scenes_from")
    print(f"    scenes = scenes_from({str(frames)!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
