"""Files: per-user chunked content of import data sources and export outputs (§4).

A `POST /files/{id}` declares a new private upload (`-1` = count unknown, finished by
`/complete`); chunks arrive in any order; the content is the chunks in index order. Each user
has their own content of a file; an export writes the running user's content of its file.

Private content not accessed for 48 hours is removed, after which the default content (if any)
shows again, as in Anaplan (§4.1). Access is an upload, a download, a listing of the model's
files or chunks, or a task started on the model by that user. Last-access times live in memory:
a restart starts every timer afresh.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models import ChunkInfo, FileInfo
from .. import errors
from ..definitions import FileDef
from ..storage import FileReader, UploadState
from .base import EngineBase, page_of
from .catalog import ModelCatalog
from .contract import Page, Paged, Principal
from .lifecycle import StreamInterrupted

MAX_CHUNKS = 1000
"""Anaplan's limit on the chunks of one file (§4.4)."""

PRIVATE_CONTENT_LIFETIME = 48 * 3600.0
"""Seconds without access after which Anaplan removes a user's private file content (§4.1)."""


DEFAULT_OWNER = ""
"""The owner of a file's default content, served to users who uploaded none."""

_PYTHON_CODECS = {"UTF-8": "utf-8", "ISO-8859-1": "latin-1", "UTF-16LE": "utf-16-le"}


def encode_default(source: FileDef) -> bytes:
    """A file's default content from its definition, in the file's encoding."""
    return (source.default_content or "").encode(_PYTHON_CODECS.get(source.encoding, "utf-8"))


def content_of(
    store: FileReader, model_id: str, file_id: str, user_id: str
) -> tuple[str, UploadState] | None:
    """Whose content a user sees of a file, and its state: their private content, else the
    default content, else None (§4.1)."""
    for owner in (user_id, DEFAULT_OWNER):
        state = store.upload_state(model_id, file_id, owner)
        if state is not None:
            return owner, state
    return None


WHOLE_READ_BYTES = 64 * 1024 * 1024
"""A download up to this size is read whole at once; a larger one streams (see `read_file`)."""


def _chunk_or_gone(data: bytes | None, file_id: str) -> bytes:
    if data is None:  # a snapshot's chunks never go; a store closed under it is a reset
        raise StreamInterrupted(f"file {file_id}: the content is gone")
    return data


class FilesMixin(EngineBase):
    """The engine's file endpoints."""

    def _expire_private_content(self, model_id: str, user_id: str, *, touch: bool) -> None:
        """Remove the user's private content of this model's files unused for 48 hours.

        With `touch`, the content that remains counts as accessed now.
        """
        now = self._clock.now()
        with self._lock:
            for info in self._catalogs[model_id].file_infos({}):
                key = (model_id, info.id, user_id)
                if self._store.upload_state(model_id, info.id, user_id) is None:
                    self._file_access.pop(key, None)
                    continue
                last = self._file_access.setdefault(key, now)
                if now - last > PRIVATE_CONTENT_LIFETIME:
                    self._store.delete_content(model_id, info.id, user_id)
                    del self._file_access[key]
                elif touch:
                    self._file_access[key] = now

    def _accessed(self, model_id: str, file_id: str, user_id: str) -> None:
        with self._lock:
            self._file_access[(model_id, file_id, user_id)] = self._clock.now()

    def _accessed_if_private(self, model_id: str, file_id: str, user_id: str) -> None:
        if self._store.upload_state(model_id, file_id, user_id) is not None:
            self._accessed(model_id, file_id, user_id)

    def files(self, principal: Principal, model_id: str, page: Page) -> Paged[FileInfo]:
        """Import and export files with the caller's chunk counts."""
        catalog = self._catalog(principal, model_id)
        self._expire_private_content(model_id, principal.user_id, touch=False)
        counts: dict[str, int] = {}
        for info in catalog.file_infos({}):
            content = content_of(self._store, model_id, info.id, principal.user_id)
            if content is not None:
                counts[info.id] = content[1].chunk_count
        return page_of(catalog.file_infos(counts), page)

    def _file_id(self, catalog: ModelCatalog, file_id: str, *, writable: bool = False) -> str:
        if catalog.file(file_id) is not None:
            return file_id
        if catalog.export(file_id) is not None:
            if writable:
                raise errors.BadRequest(
                    f"File {file_id} is an export's output: it cannot be uploaded to"
                )
            return file_id
        raise errors.NotFound(f"File {file_id} not found")

    def set_chunk_count(
        self, principal: Principal, model_id: str, file_ref: str, chunk_count: int
    ) -> FileInfo:
        """`POST /files/{id}`: start a new private upload; a name that is no file id creates one.

        A name that matches an existing file's name uses that file rather than adding a second.
        """
        catalog = self._catalog(principal, model_id)
        if chunk_count == 0 or chunk_count < -1 or chunk_count > MAX_CHUNKS:
            raise errors.BadRequest(
                f"chunkCount must be -1 (unknown) or between 1 and {MAX_CHUNKS}, not {chunk_count}"
            )
        if catalog.file(file_ref) is not None or catalog.export(file_ref) is not None:
            file_id = self._file_id(catalog, file_ref, writable=True)
        else:
            existing = catalog.file_named(file_ref)
            if existing is None:
                self._check_file_name(file_ref)
                access = self._access(principal, model_id)
                if not access.may_create_files:
                    raise errors.Forbidden(
                        f"User {principal.email} may not create files in this model "
                        f"(model role {access.role!r})"
                    )
                # Read, add and write the structure under the engine's lock: two uploads
                # creating two files at once must not each write a structure without the other.
                with self._lock:
                    structure = self._catalogs[model_id].structure
                    if not any(f.name == file_ref for f in structure.files):
                        self.replace_structure(
                            model_id,
                            structure.model_copy(
                                update={"files": [*structure.files, FileDef(name=file_ref)]}
                            ),
                        )
                    catalog = self._catalogs[model_id]
            file_id = catalog.id_of("file", file_ref)
        self._check_upload(principal, model_id, catalog, file_id)
        self._expire_private_content(model_id, principal.user_id, touch=False)
        self._store.declare_upload(model_id, file_id, principal.user_id, chunk_count)
        self._accessed(model_id, file_id, principal.user_id)
        info = catalog.file_info(file_id, chunk_count if chunk_count > 0 else 0)
        assert info is not None
        return info

    def _check_upload(
        self, principal: Principal, model_id: str, catalog: ModelCatalog, file_id: str
    ) -> None:
        """403 unless the caller's model role lets them change this file's content."""
        source = catalog.file(file_id)
        access = self._access(principal, model_id)
        if source is not None and not access.may_upload(source.name):
            raise errors.Forbidden(
                f"User {principal.email} may not upload to {source.name!r} "
                f"(model role {access.role!r})"
            )

    @staticmethod
    def _check_file_name(name: str) -> None:
        if not name.strip() or len(name) > 255 or any(c in name for c in "/\\\x00"):
            raise errors.BadRequest(f"Not a valid file name: {name!r}")

    def put_chunk(
        self, principal: Principal, model_id: str, file_id: str, index: int, data: bytes
    ) -> None:
        """Store one (already decompressed, size-checked) chunk durably before returning."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id, writable=True)
        self._check_upload(principal, model_id, catalog, file_id)
        if index < 0 or index >= MAX_CHUNKS:
            raise errors.BadRequest(f"Chunk id must be between 0 and {MAX_CHUNKS - 1}")
        state = self._store.upload_state(model_id, file_id, principal.user_id)
        if state is not None and state.declared > 0 and index >= state.declared:
            raise errors.BadRequest(
                f"Chunk {index} is beyond the declared chunk count {state.declared}"
            )
        self._store.put_chunk(model_id, file_id, principal.user_id, index, data)
        self._accessed(model_id, file_id, principal.user_id)

    def complete_upload(self, principal: Principal, model_id: str, file_id: str) -> FileInfo:
        """`POST /files/{id}/complete`: freeze the chunk count of a `-1` upload."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id, writable=True)
        self._check_upload(principal, model_id, catalog, file_id)
        state = self._store.upload_state(model_id, file_id, principal.user_id)
        if state is not None:
            present = state.chunk_indices
            expected = tuple(range(len(present))) if state.declared < 0 else None
            if expected is not None and present != expected:
                missing = sorted(set(range(max(present) + 1)) - set(present))
                raise errors.BadRequest(f"Cannot complete the upload: chunks {missing} are missing")
        state = self._store.complete_upload(model_id, file_id, principal.user_id)
        self._accessed(model_id, file_id, principal.user_id)
        info = catalog.file_info(file_id, state.chunk_count)
        assert info is not None
        return info

    def file_chunks(self, principal: Principal, model_id: str, file_id: str) -> list[ChunkInfo]:
        """The caller's chunks of a file (empty when there is no content)."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        self._expire_private_content(model_id, principal.user_id, touch=False)
        self._accessed_if_private(model_id, file_id, principal.user_id)
        content = content_of(self._store, model_id, file_id, principal.user_id)
        count = content[1].chunk_count if content is not None else 0
        return [ChunkInfo(id=str(index), name=f"Chunk {index}") for index in range(count)]

    def read_chunk(self, principal: Principal, model_id: str, file_id: str, index: int) -> bytes:
        """One chunk's bytes (404 when out of range)."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        self._expire_private_content(model_id, principal.user_id, touch=False)
        self._accessed_if_private(model_id, file_id, principal.user_id)
        content = content_of(self._store, model_id, file_id, principal.user_id)
        data = self._store.read_chunk(model_id, file_id, content[0], index) if content else None
        if data is None:
            raise errors.NotFound(f"Chunk {index} of file {file_id} not found")
        return data

    def read_file(self, principal: Principal, model_id: str, file_id: str) -> Iterator[bytes]:
        """The whole content, chunk after chunk (404 when there is none).

        The content is the one there when the read began, whatever is uploaded meanwhile:
        up to `WHOLE_READ_BYTES` it is read at once; a larger file streams from a snapshot of
        the store, each chunk under its own lease, and breaks off if the emulator is reset.
        """
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        self._expire_private_content(model_id, principal.user_id, touch=False)
        self._accessed_if_private(model_id, file_id, principal.user_id)
        snapshot = self._store.file_snapshot()
        try:
            content = content_of(snapshot, model_id, file_id, principal.user_id)
            if content is None or not content[1].readable:
                raise errors.NotFound(f"File {file_id} has no content")
            owner, state = content
            if state.total_bytes <= WHOLE_READ_BYTES:
                whole = [
                    _chunk_or_gone(snapshot.read_chunk(model_id, file_id, owner, index), file_id)
                    for index in range(state.chunk_count)
                ]
                snapshot.close()
                return iter(whole)
        except BaseException:
            snapshot.close()
            raise
        lifecycle = self._lifecycle
        generation = lifecycle.generation

        def chunks() -> Iterator[bytes]:
            try:
                for index in range(state.chunk_count):
                    with lifecycle.shared():
                        if lifecycle.generation != generation:
                            raise StreamInterrupted(f"file {file_id}: the emulator was reset")
                        data = snapshot.read_chunk(model_id, file_id, owner, index)
                    yield _chunk_or_gone(data, file_id)
            finally:
                snapshot.close()

        return chunks()

    def delete_file(self, principal: Principal, model_id: str, file_id: str) -> None:
        """Remove the caller's private content (the default content, if any, shows again)."""
        catalog = self._catalog(principal, model_id)
        file_id = self._file_id(catalog, file_id)
        self._check_upload(principal, model_id, catalog, file_id)
        self._store.delete_content(model_id, file_id, principal.user_id)
        with self._lock:
            self._file_access.pop((model_id, file_id, principal.user_id), None)
