"""The child process of the failure suite's killed-writer tests.

Run as ``python -m testing.suites._killed_writer USER_ID SESSION_ID [DIE_INSIDE_WRITE]`` with the
configuration as JSON on stdin. It appends messages to the session through
FFMemoryLayerManager.add_message (durability forced to ``always``) and prints ``ack <message_id>``
after each call returns. Every fourth message is large (about 150,000 characters).

Two ways to die:

* killed from outside: the parent SIGKILLs it mid-stream, wherever it happens to be;
* ``DIE_INSIDE_WRITE`` = n: the n-th ``os.write`` of the JSONL appender (0-based) writes half of
  its bytes and then the process SIGKILLs itself, which is exactly a crash inside ``write()``:
  a torn last line, every time, for the repair path to deal with.

A printed ack is a promise: the message is on disk, fsynced. The parent checks afterwards that
every acknowledged message is still there. As a safety net, should the parent never kill it, the
child stops after ``MAX_MESSAGES``; a parent that dies closes the pipe, and the next ack ends the
child with BrokenPipeError.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import types
from typing import Any

import ff_utils._jsonl_append as jsonl_append_module
from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager

__all__ = ["MAX_MESSAGES", "message_text", "main"]

_LARGE_CHARS = 150_000
MAX_MESSAGES = 2_000


def message_text(index: int) -> str:
    """The text of message ``index``: short, or large every fourth message."""
    head = f"durable message {index:05d}"
    return head if index % 4 != 3 else head + " " + ("lorem ipsum " * (_LARGE_CHARS // 12))


def _die_inside_write(n: int) -> None:
    """Make the appender's n-th ``os.write`` write half its bytes, then SIGKILL this process."""
    real = jsonl_append_module.os
    calls = 0

    def write(fd: int, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls <= n:
            return real.write(fd, data)
        real.write(fd, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable: SIGKILL cannot be caught")

    fake = types.SimpleNamespace(**vars(real))
    fake.write = write
    jsonl_append_module.os = fake  # type: ignore[attr-defined]  # this process is about to die anyway


async def _write(config: FFConfigurationManagerConfigDTO, user_id: str, session_id: str) -> None:
    async with FFMemoryLayerManager(config) as memory:
        for index in range(MAX_MESSAGES):
            message = await memory.add_message(user_id, session_id, "user", message_text(index))
            sys.stdout.write(f"ack {message.message_id}\n")
            sys.stdout.flush()


def main(argv: list[str]) -> int:
    user_id, session_id, *rest = argv
    config = FFConfigurationManagerConfigDTO.model_validate_json(sys.stdin.read())
    durable = config.model_copy(update={"storage": config.storage.model_copy(update={"durability": "always"})})
    if rest:
        _die_inside_write(int(rest[0]))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    asyncio.run(_write(durable, user_id, session_id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
