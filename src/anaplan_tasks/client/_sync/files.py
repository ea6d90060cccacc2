# Generated from src/anaplan_tasks/client/_async/files.py by scripts/unasync.py: do not edit.
# Change the async source and run `python scripts/unasync.py`.
"""`client.files`: list, upload, download and delete the model's files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..._core import files as core_files
from ..._core import jobs
from ...models import FileInfo
from .._shared import upload_source
from .runner import Namespace, Runner


class Files(Namespace):
    """`client.files`: list, upload, download and delete the model's files."""

    def list(self) -> list[FileInfo]:
        """The model's files, with your chunk counts."""
        return self._run(core_files.list_files(self._ctx))

    def get(self, file: str) -> FileInfo:
        """A file by id or name (an unknown name lists the closest)."""
        return self._run(jobs.resolve_file(self._ctx, file))

    def _file_id(self, file: str) -> str:
        if file.isdigit() and len(file) == 12:
            return file
        return (self.get(file)).id

    def upload(
        self,
        file: str,
        source: str | os.PathLike[str] | bytes | Iterable[bytes],
        *,
        chunk_size: int | None = None,
        workers: int | None = None,
        on_progress: core_files.UploadProgressCallback | None = None,
    ) -> FileInfo:
        """Upload new content for a file, chunk by chunk, compressed and concurrent.

        Args:
            file: The file's id or name.
            source: A path, bytes, or an iterable of bytes (size unknown: chunk count -1).
            chunk_size: Uncompressed bytes per chunk (default from the client, 10 MB).
            workers: Chunks in flight at once (default from the client, 4).
            on_progress: Called after each stored chunk with the uncompressed bytes uploaded
                so far and the total (None when the source's size is unknown).

        Raises:
            ChunkUploadError: A chunk could not be uploaded; the upload was not completed.
        """
        config = self._runner.config
        plan = upload_source(source, chunk_size or config.chunk_size)
        file_id = self._file_id(file)
        return self._run(
            core_files.upload(
                self._ctx, file_id, plan, workers or config.upload_workers, on_progress
            )
        )

    def iter_download(self, file: str) -> Iterator[bytes]:
        """The file's content, chunk by chunk (one chunk in memory at a time)."""
        file_id = self._file_id(file)
        yield from self._runner.stream(core_files.download(self._ctx, file_id))

    def download(self, file: str, dest: str | os.PathLike[str] | Any) -> int:
        """Write the file's content to a path or binary file object; returns the byte count."""
        return write_chunks(self._runner, self.iter_download(file), dest)

    def delete(self, file: str) -> None:
        """Remove your private content of a file."""
        self._run(core_files.delete(self._ctx, self._file_id(file)))


def write_chunks(runner: Runner, chunks: Iterator[bytes], dest: Any) -> int:
    """Write chunks to a path (through `<name>.part`, renamed at the end) or a file object.

    Returns the byte count. When the chunks fail (a dropped connection, Ctrl-C), the partial
    file is removed and `dest` is left as it was.
    """
    total = 0
    if isinstance(dest, str | os.PathLike):
        path = Path(dest)
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as handle:
                for chunk in chunks:
                    runner.offload(handle.write, chunk)
                    total += len(chunk)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)
        return total
    for chunk in chunks:
        runner.write(dest, chunk)
        total += len(chunk)
    return total
