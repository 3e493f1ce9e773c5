"""`lbbench image build`: the container images, built offline (bench/images/build.py)."""

from __future__ import annotations

import argparse

from bench.console import status
from bench.errors import EXIT_OK

IMAGE_DESCRIPTION = (
    "Build lbbench/valkey:<version> (the bundled valkey-server), lbbench/python:<X.Y> "
    "(this machine's Python) and lbbench/loadgen:<version> (the project, from a wheelhouse built "
    "here); prints each image's tag, id and size."
)


def cmd_image(args: argparse.Namespace) -> int:
    from bench.images.build import build_images, check_plan
    from bench.images.engine import engine

    check_plan(args.only, args.base)
    built = build_images(engine(), status, only=args.only, base=args.base)
    for image in built:
        print(f"{image.tag}  {image.image_id}  {image.size_bytes / 1e6:.0f} MB  ({image.seconds:.0f} s)")
    return EXIT_OK
