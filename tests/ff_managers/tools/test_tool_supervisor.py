"""The lean supervisor of a sandboxed run: what made it cheap must not open a hole.

The Performance issue made the supervisor start faster (no ``json``/``os``/``ctypes`` imports,
code unmarshalled from a sealed memfd, PID 1 of the sandbox). Each test here pins one property
that change relies on: the frames and settings round-trip, the imports stay lean, the code
descriptor cannot be changed and never reaches the program, and the supervisor is the init.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers._core import bwrap as bwrap_module
from ff_managers._core.sandbox_launcher import _dumps, decode_settings, encode_settings, pack_files, unpack_files
from ff_managers._tools.sandbox_files import ff_read_packed, ff_write_packed
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from tests._tool_helpers import code_tool

_HEAVY = {"json", "re", "enum", "ctypes", "socket", "os", "functools", "collections"}


def test_staged_files_round_trip_through_the_frames(tmp_path: Path) -> None:
    files = [("a.txt", b"alpha"), ("deep/er/b.bin", bytes(range(256)) * 3), ("empty", b"")]
    in_fd = ff_write_packed(files)
    try:
        unpack_files(in_fd, str(tmp_path))
    finally:
        os.close(in_fd)
    assert {name: (tmp_path / name).read_bytes() for name, _ in files} == dict(files)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o600


def test_copy_back_keeps_odd_names_skips_links_and_stops_at_the_cap(tmp_path: Path) -> None:
    (tmp_path / "line\nbreak").write_bytes(b"1")  # a newline cannot shift the frame: names are length-prefixed
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kept").write_bytes(b"22")
    (tmp_path / "sub" / "big").write_bytes(b"x" * 100)
    (tmp_path / "link").symlink_to("/etc/passwd")
    (tmp_path / os.fsdecode(b"not-utf8-\xff")).write_bytes(b"3")
    out_fd = os.memfd_create("test-out", 0)
    try:
        report = pack_files(str(tmp_path), out_fd, cap=10)
        files = dict(ff_read_packed(out_fd, cap=10))
    finally:
        os.close(out_fd)
    assert report["skipped_out"] == 1 and report["out_truncated"] is True  # the link; the 100-byte file
    # The non-UTF-8 name is framed but cannot be stored: dropped, and the frames after it still read.
    assert files == {"line\nbreak": b"1", "sub/kept": b"22"}


def test_settings_and_report_need_no_json_module_and_stay_exact() -> None:
    settings = {"status_fd": 5, "uid": 70001, "gid": 70001, "in_fd": None, "network": "none", "limits": {"RLIMIT_CPU": 3}}
    assert decode_settings(encode_settings(settings)) == {
        "status_fd": 5, "uid": 70001, "gid": 70001, "network": "none", "limits": {"RLIMIT_CPU": 3}
    }  # fmt: skip
    with pytest.raises(ValueError, match="not an int"):
        encode_settings({"status_fd": 5, "network": "everything,uid=0"})  # a word that would smuggle a setting
    report = {"error": 'quote " backslash \\ newline \n é \U0001f600 \x00', "exit_code": None, "ok": True, "n": -3}
    assert json.loads(_dumps(report)) == report


def _supervisor_modules() -> set[str]:
    """The modules a fresh ``python -I -S -B`` holds after loading the supervisor as the sandbox does."""
    fd, size = bwrap_module._launcher_code()
    probe = (
        f"import marshal, posix, sys; space = {{'__name__': 'probe'}}\n"
        f"for code in marshal.loads(posix.pread({fd}, {size}, 0)): exec(code, space)\n"
        "print(' '.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", probe], pass_fds=(fd,), capture_output=True, check=True)
    return set(done.stdout.decode().split())


def test_the_supervisor_imports_no_heavy_module() -> None:
    modules = _supervisor_modules()
    assert "posix" in modules and "resource" in modules  # it did load
    assert not modules & _HEAVY, sorted(modules & _HEAVY)
    assert not {m for m in modules if m.startswith("ff_")}  # one self-contained blob: nothing of the project imported


def test_the_supervisor_code_descriptor_is_sealed() -> None:
    fd = bwrap_module.ff_launcher_code_fd()
    seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
    assert seals & fcntl.F_SEAL_WRITE and seals & fcntl.F_SEAL_SEAL and seals & fcntl.F_SEAL_SHRINK
    with pytest.raises(PermissionError):
        os.pwrite(fd, b"import os; os.system('id')", 0)


async def test_the_program_sees_no_descriptor_of_the_supervisor_and_it_is_the_init(tmp_path: Path) -> None:
    code = """
        import json, os
        print(json.dumps({"fds": sorted(int(n) for n in os.listdir("/proc/self/fd")), "ppid": os.getppid()}))
    """
    tools = FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}))
    tools.register_tool(code_tool("probe", code))
    result = await tools.execute_tool("alice", "probe", {})
    assert result.ok, result.error
    # 0-2 and the descriptor listdir itself opened: not the code memfd, the status pipe or the file frames.
    assert len(result.output["fds"]) == 4 and result.output["fds"][:3] == [0, 1, 2], result.output
    assert result.output["ppid"] == 1  # the supervisor is PID 1 of the sandbox (--as-pid-1)
