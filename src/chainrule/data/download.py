"""Downloads into the cache: checksum-verified and written atomically."""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path

from ..io.atomic import atomic_write
from .idx import DataFileError


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download(urls, target, sha256, progress=None, timeout=30):
    """Fetch the first of ``urls`` that answers into ``target``, verifying its SHA-256.

    The bytes go to a temporary file beside ``target`` and are renamed into
    place only when the checksum matches, so the cache never holds a half or a
    wrong file. ``progress(done_bytes, total_bytes_or_None)`` is called as data
    arrives. Raises DataFileError if no URL gives the right file.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = response.length
                digest = hashlib.sha256()
                with atomic_write(target) as out:
                    done = 0
                    while block := response.read(1 << 16):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
                    if digest.hexdigest() != sha256:
                        raise DataFileError(f"{url}: checksum mismatch (sha256 {digest.hexdigest()}, "
                                            f"expected {sha256}); nothing was cached")
            return target
        except (urllib.error.URLError, http.client.HTTPException, OSError, DataFileError) as err:
            reason = str(getattr(err, "reason", err))
            failures.append(reason if reason.startswith(url) else f"{url}: {reason}")
    raise DataFileError(f"could not download {target.name}:\n  " + "\n  ".join(failures))


def text_progress(name, stream=None):
    """A progress callback that draws ``name: 45% of 9.9 MB`` on one terminal line (stderr)."""
    import sys

    stream = stream or sys.stderr

    def report(done, total):
        if total:
            end = "\n" if done >= total else ""
            stream.write(f"\rdownloading {name}: {done / total:4.0%} of {total / 1e6:.1f} MB{end}")
        else:
            stream.write(f"\rdownloading {name}: {done / 1e6:.1f} MB")
        stream.flush()

    return report
