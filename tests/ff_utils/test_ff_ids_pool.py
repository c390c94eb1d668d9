"""ff_new_id from a pooled random source: uuid4's format, unique across threads and across fork."""

from __future__ import annotations

import os
import threading
import uuid

from ff_utils.ff_ids import ff_is_valid_id, ff_new_id


def test_ids_are_uuid4_hex_with_the_prefix() -> None:
    for _ in range(600):  # more than one pool's worth
        value = ff_new_id("msg_")
        assert value.startswith("msg_") and ff_is_valid_id(value) and len(value) == 36
        parsed = uuid.UUID(value[4:])
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_threads_never_share_an_id() -> None:
    found: list[list[str]] = [[] for _ in range(4)]

    def make(slot: int) -> None:
        found[slot].extend(ff_new_id() for _ in range(2_000))

    threads = [threading.Thread(target=make, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    every = [i for ids in found for i in ids]
    assert len(set(every)) == len(every) == 8_000


def test_a_forked_child_never_repeats_the_parents_next_ids() -> None:
    ff_new_id()  # the pool now holds unread random bytes, which the child inherits
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        try:
            os.write(write, ",".join(ff_new_id() for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        chunks = []
        while data := os.read(read, 65536):
            chunks.append(data)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    child = set(b"".join(chunks).decode().split(","))
    parent = {ff_new_id() for _ in range(50)}
    assert len(child) == 50 and not child & parent
