"""The one thread per model that runs its tasks, first come first served.

It knows nothing of the engine: it is given the engine's condition (which guards its queue),
a way to ask whether the engine is stopping, and the function that runs one task.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)


class ModelWorker:
    """Runs one model's queued task ids in order on its own thread."""

    def __init__(
        self,
        model_id: str,
        cond: threading.Condition,
        stopping: Callable[[], bool],
        run: Callable[[str], None],
    ):
        self.model_id = model_id
        self.queue: deque[str] = deque()
        self.busy = False
        self._cond = cond
        self._stopping = stopping
        self._run = run
        self.thread = threading.Thread(
            target=self._loop, name=f"emulator-model-{model_id[:8]}", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self.queue and not self._stopping():
                    self._cond.wait()
                if self._stopping():
                    return
                task_id = self.queue.popleft()
                self.busy = True
            try:
                self._run(task_id)
            except Exception:  # pragma: no cover - the run function handles its own failures
                log.exception("task %s: unexpected failure in the worker", task_id)
            finally:
                with self._cond:
                    self.busy = False
                    self._cond.notify_all()
