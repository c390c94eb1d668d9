"""The child process of the failure suite's killed-writer test.

Run as ``python -m testing.suites._killed_writer USER_ID SESSION_ID`` with the configuration
as JSON on stdin. It appends messages to the session through FFMemoryLayerManager.add_message
(durability forced to ``always``) and prints ``ack <message_id>`` after each call returns,
until it is killed (or, as a safety net should the parent never kill it, after
``MAX_MESSAGES``; a parent that dies closes the pipe, and the next ack ends the child with
BrokenPipeError). Every fourth message is large (about 150,000 characters), so a SIGKILL has
a real chance of landing inside a ``write()`` and leaving a torn last line.

A printed ack is a promise: the message is on disk, fsynced. The parent kills this process
with SIGKILL and then checks that every acknowledged message is still there.
"""

from __future__ import annotations

import asyncio
import sys

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager

__all__ = ["MAX_MESSAGES", "message_text", "main"]

_LARGE_CHARS = 150_000
MAX_MESSAGES = 2_000


def message_text(index: int) -> str:
    """The text of message ``index``: short, or large every fourth message."""
    head = f"durable message {index:05d}"
    return head if index % 4 != 3 else head + " " + ("lorem ipsum " * (_LARGE_CHARS // 12))


async def _write(config: FFConfigurationManagerConfigDTO, user_id: str, session_id: str) -> None:
    async with FFMemoryLayerManager(config) as memory:
        for index in range(MAX_MESSAGES):
            message = await memory.add_message(user_id, session_id, "user", message_text(index))
            sys.stdout.write(f"ack {message.message_id}\n")
            sys.stdout.flush()


def main(argv: list[str]) -> int:
    user_id, session_id = argv
    config = FFConfigurationManagerConfigDTO.model_validate_json(sys.stdin.read())
    durable = config.model_copy(update={"storage": config.storage.model_copy(update={"durability": "always"})})
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    asyncio.run(_write(durable, user_id, session_id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
