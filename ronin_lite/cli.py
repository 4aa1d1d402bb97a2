"""One command line for the course: ``ronin-lite <command> [options]``.

Each command is the ``main`` of the module that does the work, so ``python -m ronin_lite.train``,
``python -m ronin_lite.evaluate`` and the scripts in ``data_scripts/`` keep working and take the
same options; ``ronin-lite <command> --help`` lists every option of a command.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module whose ``main(argv)`` runs it, what it does, an example)
COMMANDS = {
    "train": ("ronin_lite.train", "train RONIN-lite or its no-prompt twin (resumes if run again)",
              "ronin-lite train --profile tiny --benchmark 3d-lite --ground --run-dir runs/tiny"),
    "ground": ("ronin_lite.grounding.ground", "describe and embed a benchmark split "
               "(resumable cache of prompt targets)",
               "ronin-lite ground --benchmark 3d-lite --split train --profile tiny"),
    "evaluate": ("ronin_lite.evaluate", "score checkpoints and classical baselines on a "
                 "benchmark split (PSNR, SSIM, flicker)",
                 "ronin-lite evaluate --checkpoint small-3d-lite --baselines input nlm"),
    "restore": ("ronin_lite.infer", "restore a video or a folder of frames with a checkpoint",
                "ronin-lite restore my_video.mp4 restored.mp4 --side-by-side sbs.mp4"),
    "fetch": ("ronin_lite.data.fetch", "download a real clean-video data set (DAVIS-2017, ...)",
              "ronin-lite fetch davis --root data/raw"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: ronin-lite <command> [options]   (ronin-lite <command> --help: its options)",
             "", "commands:"]
    lines += [f"  {name:{width}}  {what}" for name, (_, what, _) in COMMANDS.items()]
    lines += ["", "examples:"] + [f"  {example}" for _, _, example in COMMANDS.values()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"ronin-lite: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main())
