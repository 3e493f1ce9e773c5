"""`lbbench image build`'s images on a real engine: the server answers, the loadgen image runs the project."""

from __future__ import annotations

import sys
import time
import uuid

import pytest
import redis
from docker import DockerClient

from bench.images.build import Tags
from bench.images.engine import run_labels
from bench.images.wheelhouse import source_project

# The session's first image test pays for the builds: a cold wheelhouse comes from the package index.
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]


def run(client: DockerClient, image: str | None, *command: str) -> str:
    """Output of ``command`` in a throwaway, network-less container of ``image``."""
    labels = run_labels(f"test-{uuid.uuid4().hex[:8]}", "check")
    out = client.containers.run(str(image), list(command), remove=True, network_disabled=True, labels=labels)
    return bytes(out).decode()


def test_server_image_answers_ping_on_a_loopback_port(
    docker_engine: DockerClient, lbbench_images: Tags
) -> None:
    container = docker_engine.containers.run(
        str(lbbench_images.server),
        detach=True,
        ports={"6379/tcp": ("127.0.0.1", None)},
        labels=run_labels(f"test-{uuid.uuid4().hex[:8]}", "shard"),
    )
    try:
        container.reload()
        binding = container.ports["6379/tcp"][0]
        assert binding["HostIp"] == "127.0.0.1"
        client = redis.Redis(port=int(binding["HostPort"]), socket_timeout=2, socket_connect_timeout=2)
        deadline = time.monotonic() + 15
        while True:
            try:
                assert client.ping() is True
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert client.info("server")["valkey_version"]
        client.close()
    finally:
        container.remove(force=True)


def test_loadgen_image_runs_every_console_script_and_imports_the_compiled_deps(
    docker_engine: DockerClient, lbbench_images: Tags
) -> None:
    assert "usage: lbbench" in run(docker_engine, lbbench_images.loadgen, "lbbench", "--help")
    imports = "import locust, gevent, zmq, hiredis, numpy, pandas, matplotlib; print('ok')"
    assert run(docker_engine, lbbench_images.loadgen, "python3", "-c", imports).strip() == "ok"
    scripts = source_project().scripts
    assert "lbbench-worker" in scripts
    for script in scripts:
        assert f"usage: {script}" in run(docker_engine, lbbench_images.loadgen, script, "--help")


def test_python_base_holds_the_host_python_and_pip_only(
    docker_engine: DockerClient, lbbench_images: Tags
) -> None:
    image = docker_engine.images.get(str(lbbench_images.python_base))
    assert image.attrs["Size"] < 150e6
    check = "import sys, ssl, sqlite3, lzma, bz2, ctypes, zlib; print(sys.prefix, sys.version_info[:2])"
    out = run(docker_engine, lbbench_images.python_base, "python3", "-c", check)
    assert out.strip() == f"/usr/local {sys.version_info[:2]}"
    packages = run(
        docker_engine, lbbench_images.python_base, "python3", "-m", "pip", "list", "--format=freeze"
    )
    assert [line.split("==")[0] for line in packages.split()] == ["pip"]
