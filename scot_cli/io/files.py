"""Files scot writes: atomic replacement, temporary files and their cleanup, spill files.

Every temporary is named ``.<stem>.<host>-<pid>.<random>.scot-tmp`` (never ``*.parquet``),
removed when the write fails, at exit, or on SIGTERM/SIGINT; a later run removes those that
dead processes of this machine left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from scot_cli.errors import ScotError, UsageError

#: Suffix of every temporary file scot makes; never ``.parquet``, so that a glob over a
#: folder's outputs (``'dir/*.parquet'``) never sees half-written or spilled data.
TEMP_SUFFIX = ".scot-tmp"
_TEMP_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)\.[^.]+\.scot-tmp$")
_LIVE_TEMPS: set[str] = set()


def host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def make_temp(folder: Path | None, stem: str) -> Path:
    """Create an empty temporary file ``.<stem>.<host>-<pid>.<random>.scot-tmp`` in ``folder``
    (the system's temporary folder when None), after removing the stale temporaries that
    dead scot processes of this machine left there; it is removed at exit or on SIGTERM or
    SIGINT (see :func:`remove_live_temps`) unless :func:`forget_temp` is called first."""
    remove_stale_temps(folder)
    fd, name = tempfile.mkstemp(
        prefix=f".{stem}.{host_tag()}-{os.getpid()}.", suffix=TEMP_SUFFIX, dir=folder
    )
    os.close(fd)
    _LIVE_TEMPS.add(name)
    return Path(name)


def forget_temp(path: Path) -> None:
    """``path`` was renamed into place or removed: no longer ours to clean."""
    _LIVE_TEMPS.discard(str(path))


def remove_live_temps() -> None:
    """Remove this process's temporary files (at exit, or when a signal ends the run)."""
    for name in list(_LIVE_TEMPS):
        with contextlib.suppress(OSError):
            os.unlink(name)
        _LIVE_TEMPS.discard(name)


atexit.register(remove_live_temps)


def remove_stale_temps(folder: Path | None) -> list[Path]:
    """Remove the temporaries in ``folder`` whose process (on this machine) has ended, as a
    ``kill -9`` or a power cut leaves them; returns the paths removed."""
    where = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    host, removed = host_tag(), list[Path]()
    try:
        entries = list(os.scandir(where))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            if not _LEGACY_TEMP.match(entry.name) or not _older_than(entry, LEGACY_AGE):
                continue
        elif m["host"] != host or _alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


#: Temporaries of scot versions before the ``.scot-tmp`` names (the spill file matched
#: ``*.parquet``); they carry no process id, so only old ones are removed.
_LEGACY_TEMP = re.compile(r"^\.(scot-spill\.[a-z0-9_]{8}\.parquet|.+\.parquet\.[a-z0-9_]{8}\.tmp)$")
LEGACY_AGE = 86_400.0


def _older_than(entry: os.DirEntry[str], seconds: float) -> bool:
    try:
        return time.time() - entry.stat().st_mtime > seconds
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync, then rename over it.

    The temporary's name never matches ``*.parquet`` (:func:`make_temp`); it is removed when
    the write fails or the run is interrupted, so ``path`` is either the previous file or the
    complete new one.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"{path}: folder {folder} does not exist; create it first")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    tmp = make_temp(folder, path.name)
    try:
        fd = os.open(tmp, os.O_WRONLY)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        forget_temp(tmp)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        forget_temp(tmp)
        reason = storage_failure(exc)
        if reason:
            raise ScotError(
                f"{path}: cannot write ({reason}); the previous file is unchanged; free space "
                "or write elsewhere"
            ) from exc
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def storage_failure(exc: BaseException) -> str | None:
    """What went wrong when ``exc`` is the storage refusing a write (disk or quota full, a
    read-only file system, an I/O error), else None. pyarrow reports these without an errno,
    by message only."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno in _STORAGE_ERRNOS:
        return os.strerror(exc.errno)
    text = str(exc)
    known = (os.strerror(e) for e in _STORAGE_ERRNOS)
    return next((m for m in known if m in text), None)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_file(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


class SpillFile:
    """Frames set aside on disk and read back in order, one Parquet row group each; the
    temporary file (:func:`make_temp`, not named ``*.parquet``) lives in ``folder`` (the
    system's temporary folder when None) and is removed on exit."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = make_temp(folder, "spill")
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> SpillFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        forget_temp(self.path)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def put(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` as one row group."""
        arrow = frame.to_arrow()
        if self._writer is None:
            self._schema = arrow.schema
            self._writer = pq.ParquetWriter(self.path, arrow.schema, compression="lz4")
        self._writer.write_table(arrow.cast(self._schema), row_group_size=max(arrow.num_rows, 1))

    def frames(self) -> Iterator[pl.DataFrame]:
        """The frames put, in order, one at a time."""
        if self._writer is None:
            return
        self.close()
        source = pq.ParquetFile(self.path)
        for i in range(source.num_row_groups):
            yield pl.from_arrow(source.read_row_group(i))  # type: ignore[misc]
