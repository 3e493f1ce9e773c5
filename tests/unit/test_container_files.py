"""docker/compose.yaml matches the tags `lbbench image build` makes; bad `lbbench image` flags: one line."""

from __future__ import annotations

import re

import pytest

from bench.images.loadgenimage import loadgen_tag
from bench.images.serverimage import local_server_tag
from bench.images.wheelhouse import source_project
from bench.serverbinary import embedded_server_binary
from lbbench.main import main
from tests.helpers import REPO

COMPOSE = (REPO / "docker" / "compose.yaml").read_text()

# main() installs the CLI's signal handlers; tests/unit/conftest.py gives the test process its own back.
pytestmark = pytest.mark.usefixtures("keep_signal_handlers")


def default(variable: str) -> str:
    (value,) = set(re.findall(rf"\$\{{{variable}:-([^}}]+)\}}", COMPOSE))
    return value


def test_compose_defaults_are_the_tags_image_build_makes() -> None:
    assert default("LBBENCH_SERVER_IMAGE") == local_server_tag(embedded_server_binary())
    assert default("LBBENCH_LOADGEN_IMAGE") == loadgen_tag(source_project())


def test_compose_has_ten_shards_a_cache_and_publishes_nothing() -> None:
    services_block = COMPOSE.split("\nservices:\n", 1)[1]
    services = re.findall(r"^  ([a-z][\w-]*):", services_block, re.MULTILINE)
    assert services == [*(f"shard-{i}" for i in range(10)), "cache", "runner", "worker"]
    urls = re.findall(r"--shard-url redis://(shard-\d+):6379", COMPOSE)
    assert urls == [f"shard-{i}" for i in range(10)]
    # The Compose Specification has no version; a published port would leave the project's network.
    assert not re.search(r"^version:|^\s+(ports|network_mode):", COMPOSE, re.MULTILINE)


def test_only_the_workers_take_a_password_and_from_the_shell_not_the_master() -> None:
    worker = COMPOSE.split("\n  worker:\n", 1)[1]
    assert "LBBENCH_REDIS_PASSWORD: ${LBBENCH_REDIS_PASSWORD:-}" in worker
    assert COMPOSE.count("LBBENCH_REDIS_PASSWORD: ") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "server", "--base", "python:3.11-slim"], "does not apply to --only server"),
        (["--only", "python-base", "--base", "python:3.11-slim"], "does not apply to --only python-base"),
        (["--base", " "], "--base must name an image"),
        (["--only", "everything"], "--only must be one of server, python-base, loadgen, got 'everything'"),
    ],
)
def test_bad_image_flags_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        code = main(["image", "build", *args])
    except SystemExit as exc:  # argparse's own checks exit from the parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err
