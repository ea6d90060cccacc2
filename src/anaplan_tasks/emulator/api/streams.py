"""A streamed answer that breaks its connection when the stream fails half-way.

Once the status line is sent there is no error answer left to give: a stream whose data went
away (the emulator was reset during a download) or that failed must not end like a complete
answer. The connection is reset instead, so the client sees an incomplete body, never a short
file that looks whole; the log gets one line, not a traceback, for the expected case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import anyio.to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..engine.lifecycle import StreamInterrupted
from .faults import RAW_SEND, abort_connection

logger = logging.getLogger("anaplan_tasks.emulator")


def _next(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


class ChunkedContent(Response):
    """Stream `chunks` (read in worker threads); a failure mid-stream resets the connection."""

    def __init__(self, chunks: Iterator[bytes], media_type: str):
        super().__init__(content=None, media_type=media_type)
        # No Content-Length (Response would say 0 for its empty body): the body is chunked.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the answer, chunk after chunk."""
        chunks = self._chunks
        raw_send: Send = scope.get(RAW_SEND, send)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            while True:
                try:
                    chunk = await anyio.to_thread.run_sync(_next, chunks)
                except StreamInterrupted as interrupted:
                    logger.info("stream of %s broken: %s", scope["path"], interrupted)
                    await abort_connection(raw_send)
                    return
                except Exception:
                    logger.exception("stream of %s failed", scope["path"])
                    await abort_connection(raw_send)
                    return
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await anyio.to_thread.run_sync(_close, chunks)
