"""Where the site build writes, and which files in the site folder are its own.

**Names.** The build writes only the fixed top-level files and
``compare/<a>-vs-<b><suffix>`` and ``tools/<slug><suffix>``, one per site format
of the registry (``.json`` and ``.html``), where every slug is a catalog slug.
Each write is checked to land inside the site folder (no ``..``, no symlinked
folder leading out), whatever a record or the build cache says.

**Ownership survives a crash.** Every page the build writes carries panel's
mark, as its format knows it (``Renderer.marked``): ``<meta name="generator"
content="panel">`` near the top of the HTML, the ``panel.page`` format tag at the
start of the JSON. A build removes every marked
file in ``compare/`` and ``tools/`` that it did not produce this time, so a page
written by a build that was killed before it could record anything still comes
down when its record is rejected. Pages from before the mark are known by their
``<article>`` tag, or because an older build's cache lists them. Other files are
never touched. Temp files a killed build left behind (``.<name>.<random>.tmp``)
are swept.

**All or nothing, as far as a folder allows.** A build stages every file it changes
as a temp file beside its target first; only when all of them are written does it
put them in place, one rename each (:meth:`SiteWriter.commit`), and then take down
stale pages. So a build that fails while writing (a full disk, a read-only file, an
error) leaves the site exactly as it was: the temp files go, nothing is renamed.
What is not atomic: the switch itself is one rename per file, not one for the
folder, so a reader during those few milliseconds, or a build killed in them, can
see some pages new and others old (the next build completes it). A build needs free
space for every file it changes until the switch.

**Modes.** Files get the process umask's mode (0644 under umask 0022), and a file
left with another mode (by an older panel, or by hand) is fixed even when its
bytes are unchanged. Folders the build creates get 0755 under 0022, and
``compare/`` and ``tools/`` are given that mode if they have another.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from errno import ENOSPC
from pathlib import Path, PurePosixPath

from panel.atomic import dir_mode, file_mode
from panel.errors import PanelError
from panel.publish.render import registry
from panel.publish.render.base import (
    Comparison,
    Feed,
    IndexPage,
    Methodology,
    Renderer,
    Sitemap,
    ToolPage,
)
from panel.publish.render.html import STATIC
from panel.slugs import is_slug

# Where each subject's outputs go: "<folder>/<name><suffix>" per page, "<stem><suffix>" on top.
FOLDERS: dict[type, str] = {Comparison: "compare", ToolPage: "tools"}
TOP_STEMS: dict[type, str] = {
    IndexPage: "index",
    Feed: "feed",
    Sitemap: "sitemap",
    Methodology: "methodology",
}
PAGE_DIRS = tuple(FOLDERS.values())
_TMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{1,16}\.tmp$")
_HEAD = 8192


def place(subject: type, name: str = "") -> str:
    """Where a subject's outputs go, less the suffix: "compare/<name>", "tools/<name>", "index"."""
    return f"{FOLDERS[subject]}/{name}" if subject in FOLDERS else TOP_STEMS[subject]


def outputs(subject: type, stem: str) -> list[tuple[str, Renderer]]:
    """Each site output of one subject: (``stem`` + the format's suffix, the format)."""
    return [(f"{stem}{r.suffix}", r) for r in registry.for_subject(subject, site=True)]


def page_rel(subject: type, stem: str) -> str:
    """The output a reader opens for a subject: its HTML if the site writes one."""
    made = outputs(subject, stem)
    pages = [rel for rel, r in made if r.media_type.startswith("text/html")]
    return (pages or [rel for rel, _ in made] or [stem])[0]


def top_names() -> frozenset[str]:
    """The site's fixed top-level files: the index, feeds and sitemap, and the static files."""
    names = {rel for kind, stem in TOP_STEMS.items() for rel, _ in outputs(kind, stem)}
    return frozenset((*names, *STATIC))


def _formats(folder: str, suffix: str) -> list[Renderer]:
    kind = next((k for k, f in FOLDERS.items() if f == folder), None)
    if kind is None:
        return []
    return [r for r in registry.for_subject(kind, site=True) if r.suffix == suffix]


def is_pair(stem: str) -> bool:
    """``<a>-vs-<b>`` with both slugs valid (a slug may itself contain ``-vs-``)."""
    return any(
        is_slug(stem[: m.start()]) and is_slug(stem[m.end() :]) for m in re.finditer("-vs-", stem)
    )


def is_output(rel: str) -> bool:
    """Whether ``rel`` (a POSIX path relative to the site) is a name the build may write."""
    if rel in top_names():
        return True
    folder, _, name = rel.partition("/")
    stem, dot, ext = name.rpartition(".")
    if "/" in name or not dot or not _formats(folder, f".{ext}"):
        return False
    return is_slug(stem) if folder == "tools" else is_pair(stem)


def _read_head(path: Path, limit: int) -> bytes | None:
    """The first bytes of a regular file (never following a symlink or blocking), else None."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def is_marked(path: Path) -> bool:
    """Whether the file at ``path`` carries panel's mark (so a build wrote it)."""
    head = _read_head(path, _HEAD)
    if head is None:
        return False
    formats = _formats(path.parent.name, path.suffix)
    return any(r.marked(head) for r in formats)


class SiteWriter:
    """Writes site files inside one folder, with the umask's modes; removes stale pages."""

    def __init__(self, out: Path) -> None:
        self.out = out
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.root = out.resolve(strict=True)
        except OSError as exc:
            raise PanelError(
                f"cannot create the site folder {out}: {exc.strerror or exc}"
            ) from None
        if not self.root.is_dir():
            raise PanelError(f"the site folder {out} is not a folder; pass another --out")
        self.mode = file_mode()
        self.dir_mode = dir_mode()
        self.modes_fixed = 0
        self._staged: list[tuple[Path, Path]] = []  # (temp file, target) until commit()

    def _folder(self, rel: str) -> Path:
        """The checked folder for ``rel``: created if missing, never a way out of the site."""
        parent = PurePosixPath(rel).parent
        if parent == PurePosixPath("."):
            return self.root
        folder = self.root / parent
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            try:
                folder.mkdir(mode=0o777)
            except FileExistsError:
                pass
            except OSError as exc:
                raise PanelError(f"cannot create {folder}: {exc.strerror}") from None
            info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            raise PanelError(
                f"{folder} is not a plain folder (a symlink or a file); the site build writes "
                "only inside the site folder: replace it with a folder"
            )
        if stat.S_IMODE(info.st_mode) != self.dir_mode:
            self._chmod(folder, self.dir_mode)
        return folder

    def path(self, rel: str) -> Path:
        """The checked path of output ``rel``; a PanelError for any other name."""
        if not is_output(rel):
            raise PanelError(f"refusing to write {rel!r}: not a site page name")
        return self._folder(rel) / PurePosixPath(rel).name

    def _chmod(self, path: Path, mode: int) -> None:
        try:
            path.chmod(mode)  # checked above to be a regular file or a plain folder
            self.modes_fixed += 1
        except OSError as exc:
            raise PanelError(f"cannot set the mode of {path}: {exc}") from None

    def holds(self, rel: str, data: bytes | None = None) -> bool:
        """True when output ``rel`` is a regular file (holding ``data``, if given).

        A held file with the wrong mode gets the umask's mode.
        """
        path = self.path(rel)
        try:
            info = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        if data is not None and (
            info.st_size != len(data) or _read_head(path, len(data) + 1) != data
        ):
            return False
        if stat.S_IMODE(info.st_mode) != self.mode:
            self._chmod(path, self.mode)
        return True

    def write(self, rel: str, data: bytes) -> None:
        """Stage ``data`` for ``rel``: a temp file beside it, put in place by :meth:`commit`."""
        path = self.path(rel)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise self._unwritten(path, exc) from None
        self._staged.append((Path(name), path))
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), self.mode)
                handle.write(data)
        except OSError as exc:
            raise self._unwritten(path, exc) from None

    def _unwritten(self, path: Path, exc: OSError) -> PanelError:
        full = "the disk is full: free some space and build again; " if exc.errno == ENOSPC else ""
        return PanelError(
            f"cannot write {path}: {exc.strerror}; {full}the site is as it was before this "
            "build (no page of it was put in place)"
        )

    def commit(self) -> None:
        """Put every staged file in place: renames only, which need no free space."""
        staged, self._staged = self._staged, []
        for n, (tmp, path) in enumerate(staged):
            try:
                tmp.replace(path)
            except OSError as exc:
                for rest, _ in staged[n:]:
                    rest.unlink(missing_ok=True)
                raise PanelError(
                    f"cannot put {path} in place: {exc.strerror}; run the build again"
                ) from None

    def abort(self) -> None:
        """Drop every staged file: the site stays as it was."""
        staged, self._staged = self._staged, []
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def remove_stale(self, current: set[str], listed: set[str]) -> list[str]:
        """Remove panel's pages that this build did not produce; sweep leftover temp files.

        A page is panel's if it carries panel's mark, or if an older build's cache
        lists it (pages from before the mark existed).
        """
        removed: list[str] = []
        for folder in (".", *PAGE_DIRS):
            where = self.root if folder == "." else self.root / folder
            try:
                if not stat.S_ISDIR(os.lstat(where).st_mode):
                    continue
                entries = sorted(os.scandir(where), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                rel = entry.name if folder == "." else f"{folder}/{entry.name}"
                if not entry.is_file(follow_symlinks=False):
                    continue
                temp = _TMP.match(entry.name)
                if temp:
                    owner = temp["name"] if folder == "." else f"{folder}/{temp['name']}"
                    if is_output(owner):
                        _unlink(Path(entry.path))
                    continue
                if folder == "." or rel in current or not is_output(rel):
                    continue
                if rel in listed or is_marked(Path(entry.path)):
                    _unlink(Path(entry.path))
                    removed.append(rel)
        return removed


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise PanelError(f"cannot remove {path}: {exc.strerror}") from None
