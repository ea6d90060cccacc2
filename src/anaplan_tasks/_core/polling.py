"""When to poll a running task next: quick for short tasks, sparse for long ones.

The schedule uses the task's own `progress` to estimate when it will finish. Anaplan runs one
task at a time per model, so a task may wait in the model's queue (progress 0) before it runs;
only the time it spends running says anything about when it ends.

* Progress 0 (queued, or just started): geometric backoff from `initial_interval`, doubling,
  but polls stay at most `queued_interval` apart, or `queued_fraction` of the time waited when
  that is longer (so a task that starts after a queue of `Q` s is seen within
  `max(queued_interval, queued_fraction · Q)` of its start), and never more than `max_interval`.
* No progress reported at all (`None`: a cancelling task, a task kind without progress): the
  same backoff, up to `max_interval`.
* One sample with progress: the task started somewhere after the last sample at 0 (its
  *origin*), so the rate since then is only a lower bound; the next poll comes after
  `first_estimate_fraction · r` of the remaining time `r` it suggests, but no later than twice
  the time since the origin, nor later than `max(1 s, queued_fraction · elapsed)` (the task may
  have started just before this sample and end sooner), to measure the rate.
* Two or more samples with progress: the rate between the first and the latest gives `r` (time
  spent queued does not count). When `r` is within `aim_horizon`, the next poll is aimed just
  after the estimated end (`r` plus `aim_margin` and `aim_margin_fraction · r`, since an
  estimate from two samples is rough); otherwise it comes after `approach_fraction · r`,
  closing in.
* Long tasks: once the task has run `fast_phase` seconds (counted from its origin, not from the
  start of the wait), polls are at least `min_interval` apart (Anaplan asks for no more than
  one poll every 5 s on ongoing tasks); never more than `max_interval` apart.

`PollSchedule` holds only samples; the caller passes elapsed seconds (from an injected clock)
and the deadline is applied by the wait flow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PollPolicy:
    """Tuning of the polling schedule (seconds).

    Attributes:
        initial_interval: First poll after a start, and the backoff's first step.
        min_interval: Floor between polls once the task has run `fast_phase` seconds.
        max_interval: Ceiling between polls.
        fast_phase: How long a task counts as possibly short (polls may be faster).
        aim_horizon: Remaining time within which the next poll aims at the estimated end.
        approach_fraction: Share of a longer remaining time slept before re-estimating.
        first_estimate_fraction: Share of the remaining time slept after the first sample with
            progress (whose estimate is rough).
        queued_interval: Longest gap between polls of a task at progress 0 (queued), for the
            first `queued_interval / queued_fraction` seconds of the wait.
        queued_fraction: Longest gap between polls of a queued task, as a share of the time
            waited, once that exceeds `queued_interval`.
        aim_margin: Added after the estimated end (absolute, seconds).
        aim_margin_fraction: Added after the estimated end, as a share of the remaining time.
        jitter: Relative jitter on backoff steps (0.1 = ±10%).
        failed_poll_tolerance: Status reads in a row that may fail (after their own retries)
            before the wait gives up; the task runs on meanwhile.
        queue_check_interval: How often a wait whose task is queued behind another task of
            the same model, watched by the same client, checks (in memory, no request) whether
            that task has ended.
    """

    initial_interval: float = 0.25
    min_interval: float = 5.0
    max_interval: float = 30.0
    fast_phase: float = 10.0
    aim_horizon: float = 15.0
    approach_fraction: float = 0.9
    first_estimate_fraction: float = 0.8
    queued_interval: float = 2.0
    queued_fraction: float = 0.05
    aim_margin: float = 0.05
    aim_margin_fraction: float = 0.02
    jitter: float = 0.1
    failed_poll_tolerance: int = 3
    queue_check_interval: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.initial_interval <= self.max_interval:
            raise ValueError("need 0 < initial_interval <= max_interval")
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval must not exceed max_interval")
        if not 0 < self.approach_fraction <= 1 or not 0 < self.first_estimate_fraction <= 1:
            raise ValueError("approach_fraction and first_estimate_fraction must be in (0, 1]")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.queued_interval <= 0 or not 0 < self.queued_fraction <= 1:
            raise ValueError("need queued_interval > 0 and queued_fraction in (0, 1]")
        if self.queue_check_interval <= 0:
            raise ValueError("queue_check_interval must be positive")


@dataclass
class PollSchedule:
    """The polling state of one wait.

    Args:
        policy: The tuning.
        rng: Source of jitter.
    """

    policy: PollPolicy
    rng: random.Random
    _samples: list[tuple[float, float | None]] = field(default_factory=list)
    _backoff_steps: int = 0

    def observe(self, elapsed: float, progress: float | None) -> None:
        """Record a status seen `elapsed` seconds after the wait began.

        `progress` is in [0, 1] (0 while the task is queued); None when the status reports none.
        """
        value = None if progress is None else min(max(progress, 0.0), 1.0)
        self._samples.append((elapsed, value))

    def estimated_remaining(self) -> float | None:
        """Seconds until the task should finish, from its progress; None without a rate."""
        return self._estimate()[0]

    def _origin(self) -> float | None:
        """When the task started at the latest: the last sample without progress before the
        first one with progress (the start of the wait if none); None before any progress."""
        origin = 0.0
        for t, p in self._samples:
            if p is not None and p > 0:
                return origin
            origin = t
        return None

    def _estimate(self) -> tuple[float | None, bool]:
        """The remaining seconds and whether two samples with progress measured the rate."""
        positive = [(t, p) for t, p in self._samples if p is not None and p > 0]
        if not positive:
            return None, False
        latest_t, latest_p = positive[-1]
        first_t, first_p = positive[0]
        measured = latest_t > first_t and latest_p > first_p
        if measured:
            rate = (latest_p - first_p) / (latest_t - first_t)
        else:
            origin = self._origin()
            if origin is None or latest_t <= origin:
                return None, False
            rate = latest_p / (latest_t - origin)
        if rate <= 0:
            return None, False
        return max(0.0, (1.0 - latest_p) / rate), measured

    def next_delay(self, elapsed: float) -> float:
        """Seconds to sleep before the next poll, given the time since the wait began."""
        policy = self.policy
        remaining, measured = self._estimate()
        origin = self._origin()
        if remaining is None:
            step = policy.initial_interval * (2.0 ** min(self._backoff_steps, 30))
            self._backoff_steps += 1
            spread = 1.0 + self.rng.uniform(-policy.jitter, policy.jitter)
            delay = step * spread
            if origin is None and self._samples and self._samples[-1][1] is not None:
                # Queued (progress 0): stay close enough to see it start and end on time.
                delay = min(delay, max(policy.queued_interval, policy.queued_fraction * elapsed))
        elif not measured:
            # The task may have started just before this sample (then the guess is far too
            # long): measure the rate soon.
            since = elapsed - (origin or 0.0)
            delay = min(
                remaining * policy.first_estimate_fraction,
                policy.initial_interval + 2.0 * since,
                max(1.0, policy.queued_fraction * elapsed),
            )
        elif remaining <= policy.aim_horizon:
            delay = remaining * (1.0 + policy.aim_margin_fraction) + policy.aim_margin
        else:
            spread = 1.0 - self.rng.uniform(0.0, policy.jitter)
            delay = remaining * policy.approach_fraction * spread
        running = elapsed - origin if origin is not None else 0.0
        floor = policy.min_interval if running >= policy.fast_phase else 0.0
        return min(policy.max_interval, max(delay, floor, 0.01))
