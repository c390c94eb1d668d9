"""Process faults on real process groups: freeze/thaw/crash/terminate, recorded; cleanup thaws a
frozen group before it ends it, and nothing is left running (checked in the process table)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest

from testing.faults import FFFaultRecorder, FFProcessFaults, end_group
from testing.faults.process import group_members, is_alive, signal_group, wait_group_gone

pytestmark = pytest.mark.timeout(60)

# A parent that ignores nothing and a child in the same group: signals to the group reach both.
_FAMILY = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
_GRACEFUL = ("import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); print('ready', flush=True); "
             "time.sleep(60)")
# A process that needs a moment to stop on SIGTERM, and one that ignores it.
_STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"


def _spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE)


@pytest.fixture
def family() -> Iterator[subprocess.Popen[bytes]]:
    process = _spawn(_FAMILY)
    try:
        yield process
    finally:  # whatever the test did: continue, then kill the whole group
        signal_group(process.pid, signal.SIGCONT)
        signal_group(process.pid, signal.SIGKILL)
        process.wait(10)


def _states(pgid: int) -> set[str]:
    return {psutil.Process(pid).status() for pid in group_members(pgid)}


async def _wait_members(pgid: int, count: int) -> None:
    for _ in range(500):
        if len(group_members(pgid)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"group {pgid} never had {count} members")


async def test_freeze_and_thaw_reach_the_whole_group_and_are_recorded(family: subprocess.Popen[bytes]) -> None:
    await _wait_members(family.pid, 2)
    recorder = FFFaultRecorder()
    with FFProcessFaults(recorder) as faults:
        assert faults.freeze(family.pid)
        for _ in range(1000):  # bounded: a member still starting up (disk sleep) takes the stop later
            if _states(family.pid) == {psutil.STATUS_STOPPED}:
                break
            await asyncio.sleep(0.01)
        assert _states(family.pid) == {psutil.STATUS_STOPPED}
        assert faults.frozen == {family.pid}
    # leaving the block thawed it
    assert faults.frozen == frozenset()
    assert [e.fault for e in recorder.events] == ["freeze", "thaw"]
    assert recorder.events[0].detail == {"pgid": family.pid, "signal": "SIGSTOP", "delivered": True}
    assert psutil.STATUS_STOPPED not in _states(family.pid)


async def test_a_failing_block_still_thaws(family: subprocess.Popen[bytes]) -> None:
    faults = FFProcessFaults()
    with pytest.raises(RuntimeError), faults:
        faults.freeze(family.pid)
        raise RuntimeError("test failed while frozen")
    assert faults.frozen == frozenset()
    assert [e.fault for e in faults.recorder.events] == ["freeze", "thaw"]


async def test_crash_kills_every_member_and_end_group_reaps_the_leader(family: subprocess.Popen[bytes]) -> None:
    await _wait_members(family.pid, 2)
    members = group_members(family.pid)
    faults = FFProcessFaults()
    assert faults.crash(family.pid)
    assert await wait_group_gone(family.pid, 10, leader=family.pid)
    assert all(not is_alive(pid) for pid in members)
    assert not psutil.pid_exists(family.pid)  # reaped, not a zombie
    assert [e.fault for e in faults.recorder.events] == ["crash"]


async def test_a_signal_to_a_group_that_is_gone_says_it_was_not_delivered() -> None:
    process = _spawn("pass")
    process.wait(10)  # exited and reaped: no process has this group any more
    faults = FFProcessFaults()
    assert faults.crash(process.pid) is False
    assert faults.recorder.events[-1].detail["delivered"] is False


async def test_end_group_continues_a_frozen_group_before_terminating_it() -> None:
    # A SIGTERM handler (like `serve`'s) only runs in a process that runs: a stopped one keeps the
    # signal pending (a default-action SIGTERM would kill even a stopped process, proving nothing).
    process = _spawn(_GRACEFUL)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        signal_group(process.pid, signal.SIGSTOP)
        assert await end_group(process.pid, grace_s=5, leader=process.pid) is True  # it was continued, then stopped itself
        assert not psutil.pid_exists(process.pid)  # reaped by end_group
    finally:
        signal_group(process.pid, signal.SIGKILL)
        process.wait(10)


async def test_end_group_kills_what_ignores_sigterm_after_the_grace() -> None:
    process = _spawn(_STUBBORN)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        assert await end_group(process.pid, grace_s=0.3, leader=process.pid) is False  # it had to be killed
        assert group_members(process.pid) == [] and not psutil.pid_exists(process.pid)
    finally:
        signal_group(process.pid, signal.SIGKILL)
        process.wait(10)


async def test_is_alive_tells_a_reused_pid_apart() -> None:
    process = _spawn("import time; time.sleep(60)")
    try:
        started = psutil.Process(process.pid).create_time()
        assert is_alive(process.pid, started)
        assert not is_alive(process.pid, started - 100)  # another process once had this pid
    finally:
        process.kill()
        process.wait(10)
    assert not is_alive(process.pid)


def test_the_recorder_is_bounded_and_uses_the_injected_clock() -> None:
    ticks = iter(range(100))
    recorder = FFFaultRecorder(clock=lambda: float(next(ticks)), max_events=3)
    for n in range(5):
        recorder.record("proxy", "latency", connection_id=n, direction="downstream", delay_ms=1)
    assert [e.at for e in recorder.events] == [0.0, 1.0, 2.0] and recorder.dropped == 2
    assert recorder.events[0].to_json()["detail"] == {"delay_ms": 1}
    assert recorder.of("latency", source="other") == []
    recorder.clear()
    assert recorder.events == [] and recorder.dropped == 0
