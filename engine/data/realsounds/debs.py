"""Fetch pinned Debian packages and read sound files straight out of them.

Nothing is installed: ``apt-get download NAME=VERSION`` puts the ``.deb`` in a cache folder
(a rerun finds it there and downloads nothing) and ``dpkg-deb --fsys-tarfile`` streams its
files as a tar that :mod:`tarfile` reads member by member. Sounds inside Qt resource
containers (``.rcc``, :mod:`.rcc`) and OpenTTD sound sets (``.cat``, :mod:`.catfile`) are read
too; their path is ``CONTAINER!/inner/path``.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Callable, Iterator

from ...audio import is_audio_name
from .catfile import CatError, cat_files
from .rcc import RccError, rcc_files


class DebError(RuntimeError):
    """A package could not be fetched or read."""


def deb_filename(name: str, version: str) -> str:
    """The file name ``apt-get download`` gives NAME=VERSION (an epoch's ':' is written %3a)."""
    return f"{name}_{version.replace(':', '%3a')}_all.deb"


def fetch_debs(packages: dict[str, str], cache: Path, log: Callable[[str], None] = print) -> dict[str, Path]:
    """Make sure every NAME=VERSION is in ``cache``; returns {name: path}. Downloads only what is missing."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [n for n, v in packages.items() if not (cache / deb_filename(n, v)).exists()]
    if missing:
        if shutil.which("apt-get") is None:
            raise DebError("apt-get is not available: put the .deb files in " + str(cache))
        specs = [f"{n}={packages[n]}" for n in missing]
        log(f"downloading {len(specs)} package(s): {' '.join(specs)}")
        proc = subprocess.run(["apt-get", "download", *specs], cwd=cache, capture_output=True, text=True)
        if proc.returncode != 0:
            raise DebError(f"apt-get download failed (run 'apt-get update' once?): {proc.stderr.strip()[-500:]}")
    out = {}
    for n, v in packages.items():
        p = cache / deb_filename(n, v)
        if not p.exists():
            raise DebError(f"{p.name} is missing after apt-get download")
        out[n] = p
    return out


def iter_deb_members(deb: Path, want: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """Yield (path without the leading './', bytes) of the regular files in ``deb`` that ``want`` accepts."""
    if shutil.which("dpkg-deb") is None:
        raise DebError("dpkg-deb is not available")
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                path = member.name[2:] if member.name.startswith("./") else member.name
                if member.isfile() and want(path):
                    f = tar.extractfile(member)
                    yield path, f.read() if f is not None else b""
    except tarfile.TarError as exc:
        raise DebError(f"{deb.name}: not a readable package ({exc})") from exc
    finally:
        if proc.stdout:
            proc.stdout.close()
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    if rc != 0:
        raise DebError(f"dpkg-deb failed on {deb.name}: {err.strip()[-300:]}")


_CONTAINERS = (".rcc", ".cat")


def _container_files(path: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """(inner path starting with '/', bytes) of the files in a ``.rcc`` or ``.cat`` container."""
    if path.lower().endswith(".cat"):
        return ((f"/{name}", wav) for name, wav, _ in cat_files(data))
    return rcc_files(data)


def iter_sounds(deb: Path, patterns: list[str], also: Callable[[str], bool] = lambda p: False
                ) -> Iterator[tuple[str, bytes]]:
    """Yield (path, bytes) of sound files whose path matches one of the regex ``patterns``,
    and of any other file ``also`` accepts (e.g. the copyright file), in archive order.

    ``.rcc`` and ``.cat`` containers are opened when a pattern could match inside them
    (patterns for inner files contain '!').
    """
    regexes = [re.compile(p) for p in patterns]
    inner = [r for r in regexes if "!" in r.pattern]

    def want(path: str) -> bool:
        low = path.lower()
        if also(path):
            return True
        if low.endswith(_CONTAINERS):
            return bool(inner)
        return is_audio_name(low) and any(r.search(path) for r in regexes)

    for path, data in iter_deb_members(deb, want):
        if also(path):
            yield path, data
        elif path.lower().endswith(_CONTAINERS):
            try:
                for sub, content in _container_files(path, data):
                    full = f"{path}!{sub}"
                    if is_audio_name(sub) and any(r.search(full) for r in inner):
                        yield full, content
            except (RccError, CatError, IndexError, ValueError) as exc:
                raise DebError(f"{deb.name}: {path}: {exc}") from exc
        else:
            yield path, data


def read_copyright(deb: Path) -> str:
    """The package's ``usr/share/doc/NAME/copyright`` text ('' when absent)."""
    for path, data in iter_deb_members(deb, lambda p: p.startswith("usr/share/doc/") and p.endswith("/copyright")):
        return data.decode("utf-8", errors="replace")
    return ""


def dep5_license(copyright_text: str, path: str, anchored: bool = False) -> str | None:
    """License of ``path`` by a machine-readable (DEP-5) copyright file: the last Files stanza
    whose glob matches the path's tail (the whole path when ``anchored``, for a path already
    written as in the package's source tree); None when the file is not DEP-5."""
    if "Files:" not in copyright_text:
        return None
    found = None
    for stanza in re.split(r"\n\s*\n", copyright_text):
        m = re.search(r"^Files:(.*?)(?=^\S)", stanza + "\nX", re.S | re.M)
        lic = re.search(r"^License:[ \t]*(\S.*)$", stanza, re.M)
        if not m or not lic:
            continue
        globs = m.group(1).split()
        for g in globs:
            if g == "*" or fnmatch.fnmatch(path, g.lstrip("./")) or (
                    not anchored and (fnmatch.fnmatch(path, "*" + g.lstrip("./")) or fnmatch.fnmatch(path, g))):
                found = lic.group(1).strip()
                break
    return found
