"""``lbbench/loadgen:<project version>``: the project installed from the wheelhouse on a Python base.

It also carries this machine's redis-benchmark, where there is one, with every library it links and
its loader (bench/images/bundled.py), so that a run in containers can measure per-node
capacity too. The image is checked before its tag is kept: it must import every compiled dependency,
answer ``--help`` for each console script and, where it carries one, run redis-benchmark.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import sys
from pathlib import Path

import docker
from docker.errors import ContainerError, DockerException

from bench.errors import RunError
from bench.images.bundled import LOADER, REDIS_BENCHMARK, bundled_command
from bench.images.engine import LABEL_RUN, run_labels
from bench.images.offline import Progress, build_image, docker_dir, linked_libraries
from bench.images.wheelhouse import Project

LOADGEN_REPO = "lbbench/loadgen"
#: The build context's folder for redis-benchmark; the Dockerfile copies it to bundled.BUNDLED.
BENCHMARK_DIR = "redis-benchmark"
# Every compiled dependency, imported: a shared library missing from the base fails here, not mid-run.
IMPORT_CHECK = "import lbbench.main, loadgen, locust, gevent, zmq, hiredis, numpy, pandas, matplotlib"


def loadgen_tag(project: Project) -> str:
    """``lbbench/loadgen:<project version>``."""
    return f"{LOADGEN_REPO}:{project.version}"


def build_loadgen(
    client: docker.DockerClient,
    project: Project,
    context: Path,
    base: str,
    progress: Progress,
    *,
    tag: str | None,
) -> str:
    """Build the loadgen image on ``base`` from the wheelhouse in ``context``, then check that it runs."""
    tag = tag or loadgen_tag(project)
    progress(f"building {tag} on {base} (installing the wheelhouse takes a minute)")
    shutil.copy2(docker_dir() / "loadgen.Dockerfile", context / "Dockerfile")
    bundled = stage_redis_benchmark(context / BENCHMARK_DIR, progress)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    buildargs = {"BASE": base, "PYTHON_VERSION": version}
    image_id = build_image(
        client, context, "Dockerfile", tag, buildargs=buildargs, role="loadgen", progress=progress
    )
    progress(f"built {tag} ({image_id[:19]}); checking that it runs")
    try:
        checks = [["python3", "-c", IMPORT_CHECK], *([script, "--help"] for script in project.scripts)]
        if bundled:
            checks.append([*bundled_command(), "--version"])
        for command in checks:
            _check_runs(client, tag, command)
    except RunError:
        # The tag must not name an image that cannot run.
        client.images.remove(image_id, force=True)
        raise
    return tag


def stage_redis_benchmark(folder: Path, progress: Progress) -> bool:
    """This machine's redis-benchmark, its libraries and its loader (as lib/ld.so) in ``folder``; an
    empty folder, said, where there is none."""
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    (folder / "lib").mkdir(exist_ok=True)
    found = shutil.which(REDIS_BENCHMARK)
    if found is None:
        progress(
            f"no {REDIS_BENCHMARK} on this machine: the image will not measure per-node capacity"
            " (Debian's redis-tools has it)"
        )
        return False
    binary = Path(found).resolve()
    shutil.copy2(binary, folder / "bin" / REDIS_BENCHMARK)
    for library in linked_libraries(str(binary)):
        name = LOADER if Path(library).name.startswith("ld-linux") else Path(library).name
        shutil.copy2(library, folder / "lib" / name)
    if not (folder / "lib" / LOADER).is_file():
        progress(f"{binary} names no loader: the image will not measure per-node capacity")
        shutil.rmtree(folder)
        (folder / "bin").mkdir(parents=True)
        (folder / "lib").mkdir()
        return False
    progress(f"bundling {binary} and {len(list((folder / 'lib').iterdir()))} libraries it links")
    return True


def _check_runs(client: docker.DockerClient, tag: str, command: list[str]) -> None:
    labels = run_labels(f"image-check-{secrets.token_hex(4)}", "check")
    shown = " ".join(command)
    try:
        client.containers.run(tag, command, remove=True, network_disabled=True, labels=labels)
    except ContainerError as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
        lines = [line.strip() for line in stderr.splitlines() if line.strip()] or [f"exit {exc.exit_status}"]
        raise RunError(f"the image {tag} cannot run `{shown}`: {lines[-1]}") from None
    except DockerException as exc:
        reason = str(getattr(exc, "explanation", None) or exc).strip().splitlines()[0]
        raise RunError(f"the image {tag} cannot run `{shown}`: {reason}") from None
    finally:
        # A command the image lacks fails at start, after create: remove=True never gets to run.
        for container in client.containers.list(
            all=True, filters={"label": f"{LABEL_RUN}={labels[LABEL_RUN]}"}
        ):
            with contextlib.suppress(DockerException):
                container.remove(force=True)
