"""The polling schedule, driven by scripted task timelines on a simulated clock."""

from __future__ import annotations

import random

import pytest

from anaplan_tasks._core.polling import PollPolicy, PollSchedule

POLICY = PollPolicy()


def simulate(
    duration: float, queued: float = 0.0, policy: PollPolicy = POLICY, lag: float = 0.0
) -> tuple[int, float, list[float]]:
    """Poll a task that waits `queued` s, then progresses linearly for `duration` s.

    `lag` shifts the task's real start against the start answer (negative: it began before the
    answer reached us). Progress is rounded to 4 decimals, as the emulator reports it.
    Returns the number of status polls, the detection delay, and the sleeps.
    """
    schedule = PollSchedule(policy, random.Random(11))
    now = 0.0
    schedule.observe(0.0, 0.0)  # the start answer: NOT_STARTED, progress 0
    sleeps: list[float] = []
    polls = 0
    start = queued + lag
    end = start + duration
    while True:
        delay = schedule.next_delay(now)
        sleeps.append(delay)
        now += delay
        polls += 1
        if now >= end:
            return polls, now - end, sleeps
        progress = round(max(0.0, (now - start) / duration), 4) if now >= start else 0.0
        schedule.observe(now, progress)


@pytest.mark.parametrize("duration", [1, 10, 60, 300])
def test_linear_tasks_are_detected_quickly_with_few_polls(duration: float) -> None:
    polls, delay, _ = simulate(duration)
    assert delay <= max(0.25, 0.05 * duration)
    # Three polls (a first look, a rate measurement, the end), and at most one per max_interval
    # on long tasks; anaplan-sdk polls once a second.
    assert polls <= 3 + duration / POLICY.max_interval


@pytest.mark.parametrize("lag", [-0.03, -0.01, 0.01, 0.03, 0.2, 0.24])
@pytest.mark.parametrize("duration", [1, 10, 60, 300])
def test_start_lag_costs_at_most_one_poll(duration: float, lag: float) -> None:
    polls, delay, _ = simulate(duration, lag=lag)
    assert delay <= max(0.25, 0.05 * duration)
    assert polls <= simulate(duration)[0] + 1


def test_long_tasks_are_never_polled_more_often_than_the_minimum_interval() -> None:
    _, _, sleeps = simulate(300)
    elapsed = 0.0
    for sleep in sleeps:
        if elapsed >= POLICY.fast_phase:
            assert sleep >= POLICY.min_interval
        assert sleep <= POLICY.max_interval
        elapsed += sleep


def test_queued_task_backs_off_geometrically_while_it_waits() -> None:
    _, _, sleeps = simulate(20, queued=60)
    assert sleeps[0] == pytest.approx(0.25, rel=0.11)
    assert sleeps[1] == pytest.approx(0.5, rel=0.11)
    assert sleeps[2] == pytest.approx(1.0, rel=0.11)
    elapsed = 0.0
    for sleep in sleeps:
        if elapsed + sleep >= 60:
            break
        # Close enough to see the start (and a short task's end) on time, sparser as it waits.
        assert sleep <= max(POLICY.queued_interval, POLICY.queued_fraction * elapsed) + 1e-9
        elapsed += sleep
    assert sleeps[-3] > POLICY.queued_interval  # past 40 s the gaps grow with the wait


@pytest.mark.parametrize("lag", [0.0, 0.13, 0.71, 1.37])
@pytest.mark.parametrize("queued", [1, 5, 15, 30, 60])
@pytest.mark.parametrize("duration", [1, 5, 10, 60, 300])
def test_queued_task_is_detected_on_time(duration: float, queued: float, lag: float) -> None:
    # Anaplan runs one task at a time per model: a pipeline's later tasks wait in the queue.
    polls, delay, _ = simulate(duration, queued=queued, lag=lag)
    assert delay <= max(1.0, 0.05 * (queued + lag + duration))
    # The queue costs about one read per queued_interval (fewer past 40 s), the run itself
    # at most two more than a task that starts at once (a first sight, then the rate).
    queue_reads = 4 + (queued + lag) / POLICY.queued_interval
    assert polls <= queue_reads + simulate(duration)[0] + 2


def test_time_spent_queued_does_not_count_as_running() -> None:
    schedule = PollSchedule(POLICY, random.Random(1))
    schedule.observe(0.0, 0.0)
    schedule.observe(30.0, 0.0)  # still queued after 30 s
    schedule.observe(31.0, 0.25)  # started somewhere in the last second
    assert schedule.estimated_remaining() == pytest.approx(3.0)
    # No 5 s floor (the task has run at most 1 s) and no long first guess: look again soon.
    assert schedule.next_delay(31.0) <= max(1.0, POLICY.queued_fraction * 31.0)
    schedule.observe(32.0, 0.5)
    assert schedule.estimated_remaining() == pytest.approx(2.0)
    assert schedule.next_delay(32.0) == pytest.approx(2.0 * 1.02 + 0.05)


def test_without_progress_the_backoff_is_capped() -> None:
    schedule = PollSchedule(POLICY, random.Random(1))
    now = 0.0
    for _ in range(30):
        schedule.observe(now, None)
        delay = schedule.next_delay(now)
        assert delay <= POLICY.max_interval
        now += delay
    assert delay >= POLICY.max_interval * (1 - POLICY.jitter) or delay == POLICY.max_interval
    assert schedule.estimated_remaining() is None


def test_estimate_uses_the_rate_between_samples() -> None:
    schedule = PollSchedule(POLICY, random.Random(1))
    schedule.observe(0.0, 0.0)
    schedule.observe(10.0, 0.0)  # still queued
    schedule.observe(20.0, 0.25)  # started somewhere after 10 s
    assert schedule.estimated_remaining() == pytest.approx(30.0)
    schedule.observe(30.0, 0.5)  # 0.25 per 10 s
    assert schedule.estimated_remaining() == pytest.approx(20.0)


def test_progress_outside_zero_to_one_is_clamped() -> None:
    schedule = PollSchedule(POLICY, random.Random(1))
    schedule.observe(1.0, 1.7)
    assert schedule.estimated_remaining() == 0.0
    schedule = PollSchedule(POLICY, random.Random(1))
    schedule.observe(1.0, -3)
    assert schedule.estimated_remaining() is None


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="initial_interval"):
        PollPolicy(initial_interval=0)
    with pytest.raises(ValueError, match="min_interval"):
        PollPolicy(min_interval=100)
    with pytest.raises(ValueError, match="approach_fraction"):
        PollPolicy(approach_fraction=1.5)
    with pytest.raises(ValueError, match="queued_fraction"):
        PollPolicy(queued_fraction=0)
