"""Command line: ``python -m app.letters prepare-fonts`` (deploy step), ``fonts`` (report),
``render KEY OUT.pdf [--draft]`` (a letter from its example context)."""
from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.letters")
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare-fonts", help="build the prepared letter fonts (once per machine)")
    prep.add_argument("--force", action="store_true")
    sub.add_parser("fonts", help="show which font files each role uses")
    render = sub.add_parser("render", help="render a letter from its example context")
    render.add_argument("key")
    render.add_argument("output")
    render.add_argument("--draft", action="store_true")
    args = parser.parse_args(argv)

    from . import example_context, fonts, render_pdf

    if args.command == "prepare-fonts":
        started = time.perf_counter()
        prepared = fonts.prepare_fonts(force=args.force)
        print(f"{prepared.directory} ({len(prepared.files)} files, {time.perf_counter() - started:.1f} s)")
    elif args.command == "fonts":
        prepared = fonts.prepare_fonts()
        for role, sources in prepared.sources.items():
            print(f"{role}: {'; '.join(sources)}")
    else:
        with open(args.output, "wb") as fh:
            fh.write(render_pdf(args.key, example_context(args.key), draft=args.draft))
    return 0


if __name__ == "__main__":
    sys.exit(main())
