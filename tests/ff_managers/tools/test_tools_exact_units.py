"""Exact behaviour of the tool package's pure parts: the file frames, the watchdog, the registry's
and breakers' bookkeeping, the exit classification, and the refusals the manager raises.

Grown from the survivors of the first ``_tools`` mutation run (docs/MUTATION.md, ``_tools``):
each test pins a documented rule at its edges (a bound met exactly and passed by one, a frame
that stops the read followed by one that must not be read, the exact error a caller gets), so a
changed comparison, a lost ``continue`` or a dropped argument turns it red. Nothing here starts
a sandbox, except the one test of the data-root refusal (its bwrap probe).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFBreakerState, FFToolLimitsDTO, FFToolRunResultDTO, FFToolRunStatus
from ff_managers import FFToolExecutionManager
from ff_managers._tools import runs as runs_module
from ff_managers._tools.registry import ff_effective_limits
from ff_managers._tools.resilience import FFToolBreakers
import ff_managers._tools.sandbox as sandbox_module
from ff_managers._tools.sandbox import _ExitAwareProtocol, _limit_from_exit, _stop
from ff_managers._tools.sandbox_files import _safe_relative, ff_read_packed, ff_write_packed
from ff_managers._tools.watchdog import ff_count_descendants_psutil, ff_hard_kill
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFSandboxViolationError
from tests._tool_helpers import code_tool

# ------------------------------------------------------------------------------ file frames


def _frame(name: bytes, data: bytes, *, name_length: int | None = None, size: int | None = None) -> bytes:
    """One frame as the supervisor writes it; the lengths can lie, as a hostile tool's could not but a bug might."""
    return b"%d %d\n" % (len(name) if name_length is None else name_length, len(data) if size is None else size) + name + data


def _read(raw: bytes, cap: int = 1 << 20) -> list[tuple[str, bytes]]:
    fd = os.memfd_create("ff-test-frames")
    try:
        os.write(fd, raw)
        return ff_read_packed(fd, cap)
    finally:
        os.close(fd)


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_written_frames_read_back_byte_for_byte_from_offset_zero() -> None:
    files = [("a", b""), ("dir/b.bin", bytes(range(256)) * 300), ("x" * 4096, b"edge")]
    fd = ff_write_packed(files)
    try:
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0  # the caller hands it on as is: the reader starts at 0
        assert os.read(fd, 4) == b"1 0\n"
        assert ff_read_packed(fd, 1 << 20) == files
    finally:
        os.close(fd)


def test_a_name_that_cannot_be_framed_raises_and_leaks_no_descriptor() -> None:
    before = _open_fds()
    with pytest.raises(UnicodeEncodeError):
        ff_write_packed([("ok", b"1"), ("bad\udc80", b"2")])
    assert _open_fds() == before


def test_names_at_the_length_bounds() -> None:
    assert _read(_frame(b"a", b"1")) == [("a", b"1")]  # one byte: the shortest name
    longest = b"n" * 4096
    assert _read(_frame(longest, b"2")) == [(longest.decode(), b"2")]
    # a name one byte over the bound stops the read, and so does a zero-length one: nothing after is read
    assert _read(_frame(b"n" * 4097, b"3") + _frame(b"after", b"4")) == []
    assert _read(_frame(b"", b"3", name_length=0) + _frame(b"after", b"4")) == []


def test_the_copy_back_cap_is_met_exactly_and_counts_every_file() -> None:
    three = _frame(b"f1", b"abc") + _frame(b"f2", b"def") + _frame(b"f3", b"ghi")
    assert _read(three, cap=9) == [("f1", b"abc"), ("f2", b"def"), ("f3", b"ghi")]
    assert _read(three, cap=8) == [("f1", b"abc"), ("f2", b"def")]  # the third would make 9 > 8
    assert _read(three, cap=2) == []


def test_a_frame_that_does_not_parse_ends_the_read_keeping_what_came_before() -> None:
    first = _frame(b"first", b"kept")
    assert _read(first + b"no newline here") == [("first", b"kept")]
    assert _read(first + b"x y\nzz") == [("first", b"kept")]
    assert _read(first + b"1\t1\nab") == [("first", b"kept")]  # exactly '<n> <size>': no other blank
    assert _read(first + b"1  1\nab") == [("first", b"kept")]
    assert _read(first + b"1 -1\na") == [("first", b"kept")]


def test_a_truncated_frame_is_dropped_not_returned_short() -> None:
    first = _frame(b"first", b"kept")
    assert _read(first + _frame(b"late", b"abc", size=10)) == [("first", b"kept")]  # data cut short
    assert _read(first + _frame(b"ab", b"", name_length=5)) == [("first", b"kept")]  # name cut short


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "a\x00b", "a//b", "./a", "a/.", "a/../b", "..", "a/"]
)
def test_unsafe_names_are_dropped_and_the_rest_still_read(name: str) -> None:
    raw = _frame(name.encode(), b"bad") + _frame(b"dir/good.txt", b"good")
    assert _read(raw) == [("dir/good.txt", b"good")]


def test_a_name_that_is_not_utf8_is_skipped() -> None:
    assert _read(_frame(b"\xff\xfe", b"x") + _frame(b"ok", b"y")) == [("ok", b"y")]


def test_safe_relative_refuses_what_is_not_a_string() -> None:
    assert _safe_relative(5) is None
    assert _safe_relative(b"a") is None
    assert _safe_relative("a/b.txt") == "a/b.txt"


# ------------------------------------------------------------------------------ watchdog


def test_a_process_that_is_gone_has_no_descendants() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=60)
    assert ff_count_descendants_psutil(process.pid) == 0


_TREE = """
import subprocess, sys, time
code = "import subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True); print(g.pid, flush=True); time.sleep(120)"
child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
print(child.pid, int(child.stdout.readline()), flush=True)
time.sleep(120)
"""


def test_hard_kill_kills_the_supervisor_and_every_descendant_and_nothing_else() -> None:
    # supervisor -> child -> grandchild, each in its own session (never this process's group), and a
    # bystander: another child of this process, which is no descendant of the supervisor
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    parent = subprocess.Popen([sys.executable, "-c", _TREE], stdout=subprocess.PIPE, start_new_session=True)
    pids: list[int] = []
    try:
        assert parent.stdout is not None
        pids = [int(part) for part in parent.stdout.readline().split()]
        descendants = [psutil.Process(pid) for pid in pids]
        ff_hard_kill(parent.pid)
        assert parent.wait(timeout=60) == -signal.SIGKILL
        gone, alive = psutil.wait_procs(descendants, timeout=60)
        assert alive == [] and sorted(p.pid for p in gone) == sorted(pids)  # the grandchild too
        assert bystander.poll() is None  # not a descendant: untouched
    finally:
        for pid in (parent.pid, bystander.pid, *pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        parent.wait(timeout=60)
        bystander.wait(timeout=60)


def test_hard_kill_of_a_process_that_is_gone_does_nothing() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=60)
    ff_hard_kill(process.pid)  # no NoSuchProcess, no ProcessLookupError


# ------------------------------------------------------------------------------ exit classification


def test_limits_read_from_the_exit_signal_and_the_stderr_tail() -> None:
    assert _limit_from_exit(signal.SIGXCPU, b"") == "cpu_time"
    assert _limit_from_exit(signal.SIGXFSZ, b"") == "file_size"
    assert _limit_from_exit(None, b"Traceback...\nMemoryError\n") == "memory"
    assert _limit_from_exit(None, b"sh: fork: Cannot allocate memory\n") == "memory"  # a C program's ENOMEM
    assert _limit_from_exit(None, b"OSError: [Errno 27] File too large\n") == "file_size"
    assert _limit_from_exit(signal.SIGKILL, b"cannot allocate memory") is None  # the C library's text, exactly
    assert _limit_from_exit(None, b"") is None


# ------------------------------------------------------------------------------ breakers and the registry


def test_a_forgotten_breaker_starts_over_closed() -> None:
    breakers = FFToolBreakers(threshold=1, cooldown=60.0, now=lambda: 0.0)
    breakers.get("calc").record_failure()
    breakers.get("other").record_failure()
    assert breakers.not_closed() == ["calc", "other"]
    breakers.forget("calc")
    assert breakers.not_closed() == ["other"]
    assert breakers.get("calc").state == FFBreakerState.CLOSED
    breakers.forget("never-made")  # forgetting a tool without a breaker is no error


def test_an_unregistered_tool_is_gone_and_an_unknown_one_is_not_found(config) -> None:  # type: ignore[no-untyped-def]
    tools = FFToolExecutionManager(config)
    tools.unregister_tool("calculator")
    with pytest.raises(FFNotFoundError) as gone:
        tools.get_tool("calculator")
    assert (gone.value.kind, gone.value.key) == ("tool", "calculator")
    assert "calculator" not in [info.name for info in tools.list_tools()]
    with pytest.raises(FFNotFoundError) as unknown:
        tools.unregister_tool("no_such_tool")
    assert str(unknown.value) == "no tool named 'no_such_tool'"
    assert (unknown.value.kind, unknown.value.key) == ("tool", "no_such_tool")


# ------------------------------------------------------------------------------ the run log and access


def _log_dir(base: Path, user_id: str) -> Path:
    folder = base / "users" / user_id / "tools"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_get_run_of_an_unknown_run_is_not_found_with_kind_and_key(config) -> None:  # type: ignore[no-untyped-def]
    tools = FFToolExecutionManager(config)
    stored = FFToolRunResultDTO(
        run_id="run-one", tool="calculator", user_id="alice", status=FFToolRunStatus.SUCCESS,
        started_at=datetime(2026, 12, 5, 12, 0, tzinfo=UTC), output={"result": 2}, attempts=1,
    )  # fmt: skip
    log = _log_dir(Path(config.storage.base_path), "alice") / "runs.jsonl"
    log.write_text(json.dumps(stored.model_dump(mode="json")) + "\n")
    assert await tools.get_run("alice", "run-one") == stored
    with pytest.raises(FFNotFoundError) as missing:
        await tools.get_run("alice", "run-two")
    assert str(missing.value) == "no run run-two for user alice"
    assert (missing.value.kind, missing.value.key) == ("tool_run", "run-two")
    with pytest.raises(FFNotFoundError) as other_user:  # bob has no log at all
        await tools.get_run("bob", "run-one")
    assert (str(other_user.value), other_user.value.kind, other_user.value.key) == ("no run run-one for user bob", "tool_run", "run-one")


async def test_a_wrong_shape_run_found_by_id_is_corruption_naming_the_log(config) -> None:  # type: ignore[no-untyped-def]
    tools = FFToolExecutionManager(config)
    log = _log_dir(Path(config.storage.base_path), "alice") / "runs.jsonl"
    log.write_text(json.dumps({"run_id": "run-bad", "tool": "calculator", "user_id": "alice", "status": "exploded"}) + "\n")
    with pytest.raises(FFCorruptionError) as bad:
        await tools.get_run("alice", "run-bad")
    assert bad.value.path == log.resolve()


async def test_changing_access_on_a_wrong_shape_document_is_corruption_naming_it(config) -> None:  # type: ignore[no-untyped-def]
    tools = FFToolExecutionManager(config)
    access = _log_dir(Path(config.storage.base_path), "alice") / "access.json"
    planted = json.dumps({"user_id": "alice", "roles": "ops"})
    access.write_text(planted)
    for change in (tools.grant_tool("alice", "disk_usage"), tools.assign_role("alice", "ops")):
        with pytest.raises(FFCorruptionError) as refused:
            await change
        assert refused.value.path == access.resolve()
    assert access.read_text() == planted


async def test_grants_and_roles_are_stored_sorted_and_read_back(config) -> None:  # type: ignore[no-untyped-def]
    tools = FFToolExecutionManager(config)
    await tools.grant_tool("alice", "word_count")
    await tools.grant_tool("alice", "calculator")
    changed = await tools.assign_role("alice", "ops")
    assert (changed.user_id, changed.roles, changed.grants) == ("alice", ["ops"], ["calculator", "word_count"])
    stored = json.loads((Path(config.storage.base_path) / "users" / "alice" / "tools" / "access.json").read_text())
    assert stored == {"schema_version": 1, "user_id": "alice", "roles": ["ops"], "grants": ["calculator", "word_count"]}
    revoked = await tools.revoke_tool("alice", "word_count")
    assert revoked.grants == ["calculator"] and await tools.get_access("alice") == revoked


# ------------------------------------------------------------------------------ the data root and the sandbox's mounts


@pytest.mark.parametrize("inside", [False, True])
async def test_a_data_root_inside_the_tools_package_is_refused_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inside: bool
) -> None:
    package_parent = tmp_path / "pkg"
    exposed = package_parent / "tools_builtin"
    root = exposed / "data" if inside else exposed
    root.mkdir(parents=True)
    monkeypatch.setattr(runs_module, "TOOLS_PACKAGE_PARENT", package_parent)
    tools = FFToolExecutionManager(load_config(base_path=root, environ={}))
    with pytest.raises(FFSandboxViolationError) as refused:
        await tools.execute_tool("alice", "word_count", {"text": "one two"})
    assert str(refused.value) == (
        f"the data root {root.resolve()} lies inside {exposed.resolve()}, which tool sandboxes see read-only: move the data root"
    )


def test_a_data_root_beside_the_tools_package_is_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg" / "tools_builtin").mkdir(parents=True)
    monkeypatch.setattr(runs_module, "TOOLS_PACKAGE_PARENT", tmp_path / "pkg")
    tools = FFToolExecutionManager(load_config(base_path=tmp_path / "pkg" / "tools_builtin_data", environ={}))
    tools._runs._check_not_exposed()  # the prefix of a name is not a parent directory


# ------------------------------------------------------------------------------ a supervisor that ignores SIGTERM

_DEAF = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"
child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
child.stdout.readline()
print(child.pid, flush=True)
time.sleep(120)
"""


async def test_a_supervisor_that_ignores_sigterm_is_killed_with_its_tree_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.subprocess_exec(
        lambda: _ExitAwareProtocol(loop), sys.executable, "-c", _DEAF,
        stdin=None, stdout=asyncio.subprocess.PIPE, stderr=None, start_new_session=True,
    )  # fmt: skip
    process = asyncio.subprocess.Process(transport, protocol, loop)
    child_pid = 0
    try:
        assert process.stdout is not None
        child_pid = int(await asyncio.wait_for(process.stdout.readline(), 60))
        child = psutil.Process(child_pid)
        with caplog.at_level(logging.WARNING, logger=sandbox_module._log.name):
            await asyncio.wait_for(_stop(process, protocol), 60)  # SIGTERM, the grace, then the hard kill
        assert protocol.exited.done() and transport.get_returncode() == -signal.SIGKILL
        gone, alive = await asyncio.to_thread(psutil.wait_procs, [child], 60)
        assert alive == [] and [p.pid for p in gone] == [child_pid]
        assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == sandbox_module._log.name] == [
            (logging.WARNING, f"supervisor {process.pid} ignored SIGTERM; killing its process tree")
        ]
    finally:
        for pid in (process.pid, child_pid):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        await asyncio.wait_for(protocol.exited, 60)
        transport.close()


# ------------------------------------------------------------------------------ limits and mounts


def test_effective_limits_take_each_unset_field_from_the_configuration(config) -> None:  # type: ignore[no-untyped-def]
    settings = config.tools.model_copy(update={
        "default_wall_time_seconds": 7.5, "default_cpu_time_seconds": 3.0, "default_memory_mb": 300,
        "default_max_output_bytes": 12_345, "default_max_processes": 6, "default_max_open_files": 40,
        "default_max_file_bytes": 54_321,
    })  # fmt: skip
    unset = code_tool("t", "pass", limits=FFToolLimitsDTO())
    assert ff_effective_limits(unset, settings).model_dump() == {
        "wall_time_seconds": 7.5, "cpu_time_seconds": 3.0, "memory_mb": 300, "max_output_bytes": 12_345,
        "max_processes": 6, "max_open_files": 40, "max_file_bytes": 54_321,
    }  # fmt: skip
    own = FFToolLimitsDTO(wall_time_seconds=2.0, cpu_time_seconds=1.0, memory_mb=128, max_output_bytes=9999,
                          max_processes=2, max_open_files=16, max_file_bytes=4096)  # fmt: skip
    assert ff_effective_limits(code_tool("t", "pass", limits=own), settings) == own


def test_only_absolute_regular_files_outside_the_data_root_are_mounted(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inside").mkdir(parents=True)
    inside = root / "inside" / "tool.py"
    outside = tmp_path / "tool.py"
    for script in (inside, outside):
        script.write_text("print('{}')\n")
    argv = (sys.executable, "-c", "relative.py", str(inside), str(outside), str(tmp_path), str(tmp_path / "missing.py"))
    assert runs_module._program_files(argv, root.resolve()) == [str(outside.resolve())]
