"""``lbbench/python:<X.Y>``: a FROM-scratch Python base image made from the host's own Python.

With no registry to pull ``python:3.11-slim`` from, the loadgen image starts from this one instead.
The interpreter moves to /usr/local, the official images' layout, so that one loadgen Dockerfile fits
both bases. The image holds the standard library without what a load generator never imports, pip,
and every shared library ``ldd`` resolves for the interpreter, its extension modules and the wheels'
extension modules: manylinux wheels bundle their own libraries except the glibc family, libstdc++,
libgcc_s and libz, which have to come from here.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import docker

from bench.errors import UsageError
from bench.images.offline import (
    Progress,
    build_image,
    copy_into_rootfs,
    docker_dir,
    linked_libraries,
    make_dirs,
)

PYTHON_REPO = "lbbench/python"
PREFIX = Path("/usr/local")
# Tests, IDLE and tkinter (whose extension would drag X11 in), and the host's bytecode caches: the
# image compiles its own, for its own paths.
SKIP_DIRS = frozenset({"test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "__pycache__"})
SKIP_FILES = re.compile(r"\.(pyc|a|o)$|^(_tkinter|_test\w*|_ctypes_test|_xxtestfuzz)\.cpython")
SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
# getpwuid() of root must answer, or Python's expanduser and matplotlib's config dir lookup fail.
ETC_FILES = {
    "passwd": "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
    "group": "root:x:0:\nnogroup:x:65534:\n",
}


def python_base_tag() -> str:
    """``lbbench/python:<X.Y>`` of the Python running this code."""
    return f"{PYTHON_REPO}:{sys.version_info.major}.{sys.version_info.minor}"


def build_python_base(
    client: docker.DockerClient, wheels: list[Path], progress: Progress, *, tag: str | None = None
) -> str:
    """Build the Python base image able to run ``wheels``; returns its tag."""
    tag = tag or python_base_tag()
    progress(f"building {tag} from the Python in {sys.base_prefix}")
    with tempfile.TemporaryDirectory(prefix="lbbench-image-") as tmp:
        context = Path(tmp)
        rootfs = context / "rootfs"
        libraries = stage_python(rootfs)
        libraries |= _wheel_libraries(wheels, context / "extensions")
        for library in sorted(libraries):
            copy_into_rootfs(rootfs, library, _image_path(library))
        make_dirs(rootfs, "root", "etc")
        for name, text in ETC_FILES.items():
            (rootfs / "etc" / name).write_text(text)
        progress(f"{tag}: {len(libraries)} shared libraries from the host")
        shutil.copy2(docker_dir() / "python.Dockerfile", context / "Dockerfile")
        image_id = build_image(client, context, "Dockerfile", tag, role="python-base", progress=progress)
    progress(f"built {tag} ({image_id[:19]})")
    return tag


def stage_python(rootfs: Path) -> set[str]:
    """Copy the interpreter, its standard library and pip under ``rootfs``; returns the libraries needed."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    interpreter = Path(sys.base_prefix) / "bin" / f"python{version}"
    stdlib = Path(sysconfig.get_path("stdlib"))
    if not interpreter.is_file() or not (stdlib / "os.py").is_file():
        raise UsageError(
            f"no Python installation at {sys.base_prefix} to build {python_base_tag()} from; "
            "pass --base IMAGE (e.g. python:3.11-slim) where a registry can be reached"
        )
    bin_dir = rootfs / PREFIX.relative_to("/") / "bin"
    copy_into_rootfs(rootfs, interpreter, str(PREFIX / "bin" / interpreter.name))
    for alias in ("python3", "python"):
        (bin_dir / alias).symlink_to(interpreter.name)
    target = rootfs / PREFIX.relative_to("/") / "lib" / f"python{version}"
    shutil.copytree(stdlib, target, symlinks=True, ignore=_skipper(stdlib))
    _copy_pip(target / "site-packages")
    for library in (Path(sys.base_prefix) / "lib").glob("libpython*"):
        shutil.copy2(library, rootfs / PREFIX.relative_to("/") / "lib" / library.name, follow_symlinks=False)
    libraries = set(linked_libraries(str(interpreter)))
    for extension in sorted((target / "lib-dynload").glob("*.so")):
        libraries.update(linked_libraries(str(extension)))
    return libraries


def _skipper(stdlib: Path) -> Callable[[str, list[str]], set[str]]:
    def skip(folder: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name in SKIP_DIRS or SKIP_FILES.search(name)}
        if Path(folder) == stdlib:
            # Of the host's packages only pip (added by _copy_pip): the wheels bring everything else.
            skipped.add("site-packages")
        return skipped

    return skip


def _copy_pip(site_packages: Path) -> None:
    """The running environment's pip, the one that built the wheelhouse (the host's may be patched)."""
    spec = importlib.util.find_spec("pip")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(f"pip is not installed in {sys.prefix}: it installs the wheels in the image")
    package = Path(next(iter(spec.submodule_search_locations)))
    site_packages.mkdir(parents=True, exist_ok=True)
    shutil.copytree(package, site_packages / "pip", ignore=shutil.ignore_patterns("__pycache__"))
    for metadata in package.parent.glob("pip-*.dist-info"):
        shutil.copytree(metadata, site_packages / metadata.name)


def _wheel_libraries(wheels: list[Path], scratch: Path) -> set[str]:
    """The libraries from outside the wheels that the wheels' extension modules link against."""
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            # The bundled libraries (numpy.libs/ etc.) come along so that ldd resolves them as the
            # installed package would, through the modules' $ORIGIN run path.
            members = [name for name in archive.namelist() if SHARED_OBJECT.search(name)]
            archive.extractall(scratch / wheel.stem, members)
    libraries: set[str] = set()
    for module in sorted(scratch.rglob("*")):
        if module.is_file() and SHARED_OBJECT.search(module.name):
            # A library bundled in <package>.libs/ may need a sibling without a run path to it (scipy's
            # libgfortran needs its libquadmath): the extension that loads it has loaded the sibling
            # first, so ldd looks beside it, as the loader in effect does.
            search = module.parent if module.parent.name.endswith(".libs") else None
            libraries.update(
                library
                for library in linked_libraries(str(module), search)
                if not library.startswith(str(scratch))
            )
    return libraries


def _image_path(library: str) -> str:
    """Where ``library`` goes in the image: the interpreter's own libraries move with it to /usr/local/lib."""
    path = Path(library)
    return str(PREFIX / "lib" / path.name) if path.parent == Path(sys.base_prefix) / "lib" else library
