"""Real servers for integration tests: one seeded 10-shard topology per module, probed once."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from docker import DockerClient
from docker.errors import ImageNotFound

from bench.errors import UsageError
from bench.images.build import Tags, build_images
from bench.images.engine import engine
from bench.keys import Keys
from bench.seeding.seed import seed
from bench.serverbinary import find_server_binary
from bench.topology import Topology, TopologyOptions, open_topology
from bench.topology.containers.nodes import prepare_testcontainers
from tests.helpers import alive, started_processes

# No capacity probe after each compare a test starts (seconds each); test_capacity and test_cli's
# end-to-end compare ask for it with --capacity-s.
os.environ.setdefault("LBBENCH_CAPACITY_S", "0")

PLAYERS = 20_000
SEED = 7
SHARDS = 10


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Every server and Locust process a test started is gone when it ends."""
    before = started_processes()
    yield
    assert alive(started_processes() - before) == set(), "a server or locust process was left running"


@pytest.fixture(scope="session")
def server_bin() -> str:
    """The server binary the harness would pick; integration tests need one (make test installs it)."""
    return find_server_binary().path


@pytest.fixture(scope="module")
def topology(server_bin: str) -> Iterator[Topology]:
    with open_topology(TopologyOptions(shards=SHARDS, server_bin=server_bin)) as topo:
        seed(topo, Keys(), PLAYERS, SEED, global_set=True)
        yield topo


#: Set by `make test` where it could install redis-tools: a capacity test that finds no redis-benchmark
#: fails instead of skipping.
REQUIRE_REDIS_BENCHMARK_ENV = "LBBENCH_REQUIRE_REDIS_BENCHMARK"


@pytest.fixture(scope="session")
def redis_benchmark() -> tuple[str, ...]:
    """How redis-benchmark is started; capacity tests skip with the reason where it cannot be had."""
    from bench.probes.rbench import find_tool

    tool, why = find_tool()
    if tool is None:
        if os.environ.get(REQUIRE_REDIS_BENCHMARK_ENV) == "1":
            pytest.fail(f"{REQUIRE_REDIS_BENCHMARK_ENV}=1 but {why}")
        pytest.skip(why)
    return tool


#: Set by .ci/run after it started an engine: a docker test that cannot reach one fails instead of skipping.
REQUIRE_DOCKER_ENV = "LBBENCH_REQUIRE_DOCKER"


@pytest.fixture(scope="session")
def docker_engine() -> DockerClient:
    """The Docker engine, probed once; docker tests skip with the reason where none can be had."""
    try:
        client = engine()
    except UsageError as exc:
        if os.environ.get(REQUIRE_DOCKER_ENV) == "1":
            pytest.fail(f"{REQUIRE_DOCKER_ENV}=1 but {exc}")
        pytest.skip(str(exc))
    prepare_testcontainers()
    return client


@pytest.fixture(scope="session")
def lbbench_images(docker_engine: DockerClient) -> Iterator[Tags]:
    """The three images, built once from this checkout under test-only tags that are removed afterwards.

    Removing a tag deletes the image only where no other tag names it: the user's own `make image`
    images, which an unchanged build shares layers and ids with, stay.
    """
    suffix = uuid.uuid4().hex[:10]
    tags = Tags(
        server=f"lbbench-test/valkey:{suffix}",
        python_base=f"lbbench-test/python:{suffix}",
        loadgen=f"lbbench-test/loadgen:{suffix}",
    )
    try:
        build_images(docker_engine, lambda _line: None, tags=tags)
        yield tags
    finally:
        for tag in (tags.loadgen, tags.python_base, tags.server):
            with contextlib.suppress(ImageNotFound):
                docker_engine.images.remove(tag)
