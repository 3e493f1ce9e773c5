"""`lbbench image build`: the container images, built offline (bench/topology/containers/build.py)."""

from __future__ import annotations

import argparse
from typing import Any

from bench.console import status
from bench.errors import EXIT_OK
from bench.topology.containers import IMAGE_TARGETS


def add_image_parser(sub: Any) -> None:
    """Add the `image` subcommand to the lbbench subparsers action."""
    p = sub.add_parser(
        "image",
        help="build the server and load-generator images, with no network inside the builds",
        description="Build lbbench/valkey:<version> (the bundled valkey-server), lbbench/python:<X.Y> "
        "(this machine's Python) and lbbench/loadgen:<version> (the project, from a wheelhouse built "
        "here); prints each image's tag, id and size.",
    )
    p.add_argument("action", choices=["build"])
    p.add_argument("--only", choices=IMAGE_TARGETS, help="build just this image")
    p.add_argument(
        "--base",
        metavar="IMAGE",
        help="the loadgen image's base, e.g. python:3.11-slim where a registry can be reached "
        "(default: lbbench/python:<X.Y>, built here from this machine's Python)",
    )


def cmd_image(args: argparse.Namespace) -> int:
    from bench.topology.containers.build import build_images, check_plan
    from bench.topology.containers.engine import engine

    check_plan(args.only, args.base)
    built = build_images(engine(), status, only=args.only, base=args.base)
    for image in built:
        print(f"{image.tag}  {image.image_id}  {image.size_bytes / 1e6:.0f} MB  ({image.seconds:.0f} s)")
    return EXIT_OK
