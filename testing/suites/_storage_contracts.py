"""Component suite, part 4: what the storage layer (ff_utils) promises every manager (issue 20).

Every manager stands on FFStore; a storage bug passes the managers' round trips as long as the
round trip is small, sequential and never crashes. This test checks the storage guarantees
README.md and ff_utils document, on a scratch root of its own, against figures computed here:

* JSONL: the last ``n`` records exactly (fast one-read page and general tail), oldest first; a
  torn last line (a crash before its newline) is never returned, counted or paged, is reported as
  torn, and repair removes exactly its bytes, leaving the file byte-identical to before it (also
  when the last newline is the first byte of a scan block); a
  record of exactly ``max_record_bytes`` is stored and one byte more refused, writing nothing;
* an append waits for the file's lock, held by another thread (a repair) or another process;
* atomic replace: a reader that opened the old document reads the old bytes whole after the
  replace, a large document reads back byte for byte, no temp file stays;
* encryption: a fresh nonce per record and per document, and a record or document moved to
  another file does not decrypt there; a key rotation re-encrypts every record and document
  (hidden ones too), keeps a torn tail byte for byte, counts exactly, and is a no-op run again;
* manifests: every regular file (empty and hidden ones too, those named after a symlink too;
  locks, temp files, symlinks and the manifest itself excluded) with its size and SHA-256,
  against an independent walk; verification finds a same-size change, an added and a removed
  file;
* listings: sorted, typed without following a symlink; a path through a symlink is refused
  (path, read, write and remove: nothing is deleted through it; a log's reads and the store's
  lock: no lock file is made behind it);
* path names: a space is a name character (``my notes.txt`` round-trips), a control character
  is refused with ``field="path"`` and the part as ``value``; a lock not acquired within its
  timeout is an FFStorageError naming the data file.

Cheap: a few small files and one 1.5 MB document. Registered on the component suite's REGISTRY.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ff_class_configs.ff_storage_config import FFStorageConfigDTO
from ff_utils import ff_hashing
from ff_utils.ff_encryption import (
    FFEncryptionMiddleware,
    ff_generate_key_text,
    ff_parse_key,
)
from ff_utils.ff_errors import FFCorruptionError, FFStorageError, FFValidationError
from ff_utils.ff_ids import ff_new_id
from ff_utils.ff_json_utils import FFBadLine, ff_dumps
from ff_utils.ff_key_rotation import ff_reencrypt_tree
from ff_utils.ff_locks import FF_LOCK_SUFFIX, ff_file_lock, ff_lock_path
from ff_utils.ff_store import FFStore
from testing._context import FFTestContext
from testing.runner import FFChecker

from .component import REGISTRY

__all__: list[str] = []

_LOCK_WAIT_S = 0.5  # how long an append is given to (wrongly) write while the lock is held


def _records(n: int) -> list[dict[str, Any]]:
    return [{"i": i, "text": f"record {i} é😀"} for i in range(n)]


def _check_jsonl(check: FFChecker, store: FFStore) -> None:
    log = store.path("logs", "tail.jsonl")
    records = _records(9)
    store.append_many(log, records[:4])
    for record in records[4:]:
        store.append(log, record)
    clean = log.read_bytes()
    check.equal(clean.count(b"\n"), 9, "JSONL: nine appends, nine lines")
    for n in (1, 3, 9, 20):
        check.equal(store.tail_jsonl(log, n), records[-n:], f"JSONL: tail({n}) is the last {min(n, 9)} records, oldest first")
        page = store.tail_jsonl_page(log, n)
        lines = [] if page is None else [line for line in page[0].split(b"\n")]
        check.that(page is not None and page[1] == min(n, 9) and [store_load(line) for line in lines] == records[-n:],
                   f"JSONL: the one-read page of {n} is the last {min(n, 9)} lines", str(page and page[1]))
    check.equal(list(store.read_jsonl(log)), records, "JSONL: a full read returns every record in order")
    fragment = ff_dumps({"i": 99, "text": "never acknowledged"})  # whole JSON, but its newline never made it
    with open(log, "ab") as handle:
        handle.write(fragment)
    bad: list[FFBadLine] = []
    check.equal(list(store.read_jsonl(log, on_bad_line=bad.append)), records, "JSONL: a torn last line is not read back")
    check.equal([(b.torn, b.offset) for b in bad], [(True, len(clean))], "JSONL: the torn line is reported as torn, at its offset")
    check.equal(store.tail_jsonl(log, 3, on_bad_line=lambda _b: None), records[-3:], "JSONL: tail skips a torn last line")
    check.equal(store.tail_jsonl_page(log, 3), None, "JSONL: the one-read page does not vouch for a torn file")
    check.equal(store.count_lines(log), 9, "JSONL: a torn last line is not counted")
    check.equal(store.repair_jsonl(log), len(fragment), "JSONL: repair removes exactly the torn bytes")
    check.equal(log.read_bytes(), clean, "JSONL: after repair the log is byte-identical to before the crash")
    check.equal(store.repair_jsonl(log), 0, "JSONL: repairing a clean log removes nothing")
    # A torn tail of 2^k - 1 bytes puts the last newline at the first byte of the block a
    # backward scan reads last: a scan that misses a newline at offset 0 cuts the good record.
    removed = {}
    for block in (4096, 8192, 16384, 32768, 65536):
        edge = store.path("logs", f"edge-{block}.jsonl")
        store.append(edge, records[0])
        with open(edge, "ab") as handle:
            handle.write(b"x" * (block - 1))
        removed[block] = store.repair_jsonl(edge)
    check.equal(removed, {block: block - 1 for block in removed},
                "JSONL: repair keeps the last newline at a scan block's first byte (torn tails of 2^k - 1 bytes)")


def store_load(line: bytes) -> Any:
    import orjson

    return orjson.loads(line)


def _check_record_limit(check: FFChecker, store: FFStore) -> None:
    limit = 200
    small = store.with_settings(max_record_bytes=limit)
    log = store.path("logs", "limit.jsonl")
    padding = limit - len(ff_dumps({"pad": ""}))
    exact = {"pad": "x" * padding}
    check.require(len(ff_dumps(exact)) == limit, "the record is exactly max_record_bytes long")
    try:
        small.append(log, exact)
    except FFValidationError as exc:
        check.that(False, "JSONL: a record of exactly max_record_bytes is stored", str(exc))
    before = log.read_bytes() if log.exists() else b""
    try:
        small.append(log, {"pad": "x" * (padding + 1)})
        refused = False
    except FFValidationError:
        refused = True
    check.that(refused, "JSONL: a record one byte over max_record_bytes is refused (FFValidationError)")
    after = log.read_bytes() if log.exists() else b""
    check.equal((after, list(small.read_jsonl(log))), (before, [exact]), "JSONL: the record of exactly the limit is stored; the refused one wrote nothing")


async def _check_append_waits_for_lock(check: FFChecker, store: FFStore) -> None:
    log = store.path("logs", "locked.jsonl")
    await asyncio.to_thread(store.append, log, {"i": 0})
    before = await asyncio.to_thread(log.read_bytes)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with ff_file_lock(os.fspath(log), root=store.root):
            held.set()
            release.wait(30)

    holding = asyncio.create_task(asyncio.to_thread(holder))
    try:
        check.require(await asyncio.to_thread(held.wait, 60), "the test's holder took the lock")
        append = asyncio.create_task(asyncio.to_thread(store.append, log, {"i": 1}))
        done, _ = await asyncio.wait({append}, timeout=_LOCK_WAIT_S)
        during = await asyncio.to_thread(log.read_bytes)
        check.that(not done and during == before, "JSONL: an append waits while another holder has the file's lock",
                   "the append returned" if done else "the file changed")
    finally:
        release.set()
        await holding
    await append
    check.equal([r["i"] for r in await asyncio.to_thread(lambda: list(store.read_jsonl(log)))], [0, 1], "JSONL: the append completes once the lock is free")


_HOLDER = """
import sys
from ff_utils.ff_locks import ff_file_lock
with ff_file_lock(sys.argv[1], timeout=30):
    print("held", flush=True)
    sys.stdin.readline()
"""
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def _check_append_waits_for_other_process(check: FFChecker, store: FFStore) -> None:
    """The lock holds across processes: a child holds it (flock), the append must wait."""
    log = store.path("logs", "locked-by-child.jsonl")
    await asyncio.to_thread(store.append, log, {"i": 0})
    before = await asyncio.to_thread(log.read_bytes)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLDER, os.fspath(log), cwd=_PROJECT_ROOT, start_new_session=True,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    append: asyncio.Task[None] | None = None
    try:
        assert child.stdout is not None and child.stdin is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        check.require(line.strip() == b"held", "the child process took the lock", repr(line))
        append = asyncio.create_task(asyncio.to_thread(store.append, log, {"i": 1}))
        done, _ = await asyncio.wait({append}, timeout=_LOCK_WAIT_S)
        during = await asyncio.to_thread(log.read_bytes)
        check.that(not done and during == before, "JSONL: an append waits while another process holds the file's lock",
                   "the append returned" if done else "the file changed")
        child.stdin.write(b"release\n")
        await child.stdin.drain()
        await asyncio.wait_for(child.wait(), 60)
    finally:
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            await child.wait()
    if append is not None:
        await append
    rows = await asyncio.to_thread(lambda: [r["i"] for r in store.read_jsonl(log)])
    check.equal(rows, [0, 1], "JSONL: the append completes once the other process let go")


def _check_atomic_replace(check: FFChecker, store: FFStore) -> None:
    doc = store.path("docs", "doc.json")
    old = {"version": 1, "body": "old " * 5000}
    store.write_json(doc, old)
    old_bytes = doc.read_bytes()
    with open(doc, "rb") as reader:  # a reader that opened the document before the replace
        store.write_json(doc, {"version": 2, "body": "new"})
        check.equal(reader.read(), old_bytes, "atomic replace: a reader of the old document reads it whole")
    check.equal(store.read_json(doc), {"version": 2, "body": "new"}, "atomic replace: the new document reads back")
    given: list[Any] = []
    counter = store.path("docs", "counter.json")
    for _ in range(2):
        store.update_json(counter, lambda data: given.append(data) or {"n": (data or {}).get("n", 0) + 1}, default={"n": 10})
    check.equal((given, store.read_json(counter)), ([{"n": 10}, {"n": 11}], {"n": 12}),
                "update: the updater of a missing document gets the caller's default, then the stored data")
    big = os.urandom(1_500_000)
    blob = store.path("docs", "blob.bin")
    store.write_bytes(blob, big)
    check.that(store.read_bytes(blob) == big, "atomic replace: 1.5 MB read back byte for byte")
    leftovers = sorted(e.name for e in store.list_dir(doc.parent) if e.name.endswith(".tmp"))
    check.equal(leftovers, [], "atomic replace: no temp file stays")


def _nonce_of_line(line: bytes) -> bytes:
    blob = base64.urlsafe_b64decode(line.split(b":", 1)[1])
    return blob[12:24]  # after the magic (4) and the key id (8)


def _check_encryption(check: FFChecker, root: Path) -> None:
    middleware = FFEncryptionMiddleware(ff_parse_key(ff_generate_key_text(), source="a throwaway key"))
    root.mkdir(parents=True, exist_ok=True)
    store = FFStore(root, middleware=middleware)
    log, other = store.path("a", "log.jsonl"), store.path("b", "log.jsonl")
    record = {"same": "record"}
    store.append_many(log, [record, record, record])
    lines = log.read_bytes().splitlines()
    check.equal(len({_nonce_of_line(line) for line in lines}), 3, "encryption: every record gets a fresh nonce")
    check.equal(list(store.read_jsonl(log)), [record] * 3, "encryption: the records decrypt back")
    doc, moved = store.path("a", "doc.json"), store.path("b", "doc.json")
    store.write_json(doc, record)
    first = doc.read_bytes()
    store.write_json(doc, record)
    check.that(first[12:24] != doc.read_bytes()[12:24], "encryption: every document write gets a fresh nonce")
    store.append(other, {"own": "record"})
    with open(other, "ab") as handle:
        handle.write(lines[0] + b"\n")  # a record copied from another file
    bad: list[FFBadLine] = []
    check.equal(list(store.read_jsonl(other, on_bad_line=bad.append)), [{"own": "record"}], "encryption: a record moved to another file does not decrypt there")
    check.equal(len(bad), 1, "encryption: the moved record is reported as a bad line")
    store.ensure_dir(moved.parent)
    with open(moved, "wb") as handle:
        handle.write(doc.read_bytes())
    try:
        store.read_json(moved)
        refused = False
    except FFCorruptionError:
        refused = True
    check.that(refused, "encryption: a document moved to another path is FFCorruptionError")


def _check_key_rotation(check: FFChecker, root: Path) -> None:
    """ff_reencrypt_tree: every record and document (hidden ones too) under the new key, a torn
    tail kept byte for byte and reported, counts exact, a second pass a no-op."""
    old, new = (ff_parse_key(ff_generate_key_text(), source="a throwaway key") for _ in range(2))
    root.mkdir(parents=True, exist_ok=True)
    before = FFStore(root, middleware=FFEncryptionMiddleware(old))
    log, doc, hidden = before.path("u", "log.jsonl"), before.path("u", "doc.json"), before.path("u", ".profile.json")
    records = _records(4)
    before.append_many(log, records)
    fragment = b"ffe1:torn-by-a-crash"
    with open(log, "ab") as handle:
        handle.write(fragment)
    before.write_json(doc, {"doc": 1})
    before.write_json(hidden, {"hidden": True})
    report = ff_reencrypt_tree(root, old=old, new=new, fsync=False)
    check.equal((report.files_rewritten, report.records_rewritten, len(report.unreadable)), (3, 6, 1),
                "key rotation: three files, four records and two documents rewritten; the torn line reported")
    after = FFStore(root, middleware=FFEncryptionMiddleware(new))
    check.equal((list(after.read_jsonl(log, on_bad_line=lambda _b: None)), after.read_json(doc), after.read_json(hidden)),
                (records, {"doc": 1}, {"hidden": True}), "key rotation: everything reads back under the new key alone")
    lines = log.read_bytes().split(b"\n")
    ids = {FFEncryptionMiddleware.key_id_of(blob) for blob in (*lines[:-1], doc.read_bytes(), hidden.read_bytes())}
    check.equal(ids, {new.key_id}, "key rotation: no record or document is left under the old key")
    check.equal(lines[-1], fragment, "key rotation: the torn tail is kept byte for byte")
    again = ff_reencrypt_tree(root, old=old, new=new, fsync=False)
    check.equal((again.files_rewritten, again.files_already_done), (0, 3), "key rotation: a second pass rewrites nothing")


def _independent_manifest(root: Path) -> list[tuple[str, int, str]]:
    entries = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not Path(directory, d).is_symlink()]
        for name in names:
            path = Path(directory, name)
            if path.is_symlink() or name == ff_hashing.FF_MANIFEST_NAME:
                continue
            if name.startswith(".") and (name.endswith((FF_LOCK_SUFFIX, ".tmp"))):
                continue
            data = path.read_bytes()
            entries.append((path.relative_to(root).as_posix(), len(data), hashlib.sha256(data).hexdigest()))
    return sorted(entries)


def _check_manifest(check: FFChecker, root: Path) -> None:
    files = {"a.txt": b"alpha", "empty.txt": b"", ".hidden": b"hidden", "sub/b.bin": os.urandom(70_000),
             "sub/.x.lock": b"", "sub/.y.json.0a1b.tmp": b"temp", "sub/deeper/c.json": b"{}"}
    for name, data in files.items():
        Path(root, name).parent.mkdir(parents=True, exist_ok=True)
        Path(root, name).write_bytes(data)
    os.symlink("a.txt", Path(root, "b-link"))  # not listed; the files and folders named after it are
    manifest = ff_hashing.ff_build_manifest(root)
    got = [(e.path, e.size, e.sha256) for e in manifest.entries]
    check.equal(got, _independent_manifest(root), "manifest: every file (empty and hidden too) with size and SHA-256, sorted")
    Path(root, "a.txt").write_bytes(b"alphA")  # same size, other bytes
    Path(root, "new.txt").write_bytes(b"n")
    Path(root, "sub/deeper/c.json").unlink()
    diff = ff_hashing.ff_verify_manifest(root, manifest)
    check.equal((diff.changed, diff.added, diff.removed), (["a.txt"], ["new.txt"], ["sub/deeper/c.json"]),
                "manifest: verification finds a same-size change, an added and a removed file")


def _check_listing(check: FFChecker, store: FFStore, outside: Path) -> None:
    folder = store.path("listing")
    store.ensure_dir(store.path("listing", "d"))
    store.write_bytes(store.path("listing", "f"), b"f")
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret").write_bytes(b"secret")
    (outside / "sub").mkdir(exist_ok=True)
    (outside / "sub" / "keep").write_bytes(b"keep")
    os.symlink(outside, folder / "l")
    listed = [(e.name, e.is_dir, e.is_file, e.is_symlink) for e in store.list_dir(folder)]
    check.equal(listed, [("d", True, False, False), ("f", False, True, False), ("l", False, False, True)],
                "listing: sorted, typed without following the symlink")
    refused = _refused((("path", lambda: store.path("listing", "l", "secret")),
                        ("read", lambda: store.read_bytes(folder / "l" / "secret")),
                        ("write", lambda: store.write_bytes(folder / "l" / "planted", b"x")),
                        ("remove", lambda: store.remove_tree(folder / "l" / "sub"))))
    check.equal(refused, ["path", "read", "write", "remove"],
                "listing: a path through a symlink is refused for path, read, write and remove")
    check.that(not (outside / "planted").exists(), "listing: nothing was written through the symlink")
    check.that((outside / "sub" / "keep").exists(), "listing: nothing was deleted through the symlink")


def _refused(calls: tuple[tuple[str, Callable[[], object]], ...]) -> list[str]:
    """The names of the calls that were refused as invalid input (FFValidationError)."""
    refused = []
    for what, call in calls:
        try:
            call()
        except FFValidationError:
            refused.append(what)
    return refused


def _check_log_reads_through_link(check: FFChecker, store: FFStore, outside: Path) -> None:
    """Every log read walks from the root: a log behind the symlinked folder ``listing/l`` (made
    by :func:`_check_listing`) is refused by the one-read page, the tail, the full read, the count
    and the store's lock (which makes no lock file behind it)."""
    (outside / "log.jsonl").write_bytes(b'{"i": 0}\n')
    via = store.path("listing") / "l" / "log.jsonl"
    refused = _refused((("page", lambda: store.tail_jsonl_page(via, 1)), ("tail", lambda: store.tail_jsonl(via, 1)),
                        ("read", lambda: list(store.read_jsonl(via))), ("count", lambda: store.count_lines(via)),
                        ("lock", lambda: _hold(store.lock(via)))))
    check.equal(refused, ["page", "tail", "read", "count", "lock"],
                "listing: a log through a symlinked folder is refused by page, tail, read, count and lock")
    check.equal(sorted(os.listdir(outside)), ["log.jsonl", "secret", "sub"], "listing: no lock file was made through the symlink")


def _hold(lock: contextlib.AbstractContextManager[None]) -> None:
    with lock:
        pass


def _check_key_named_by_config(check: FFChecker, root: Path) -> None:
    """A store built from a storage section whose ``encryption_key_env`` names another variable
    encrypts with the key found there (not with ``FF_ENCRYPTION_KEY``'s, nor in plaintext)."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"FF_CONTRACT_KEY_{ff_new_id()[:8].upper()}"
    key_text = ff_generate_key_text()
    os.environ[name] = key_text
    try:
        store = FFStore.from_config(FFStorageConfigDTO(base_path=root, encryption_key_env=name))
    finally:
        del os.environ[name]
    document = store.path("doc.json")
    store.write_json(document, {"text": "plain words"})
    check.that(store.encrypted and store.middleware.key_id == ff_parse_key(key_text, source=name).key_id
               and b"plain words" not in document.read_bytes(),
               "encryption: the store encrypts with the key in the variable the configuration names")


def _check_path_names(check: FFChecker, store: FFStore) -> None:
    """A space is an ordinary name character; a control character is refused, naming the part;
    a lock not acquired within its timeout says which data file it was for, and a lock file that
    cannot be opened (a folder at its name) is named."""
    try:
        spaced = store.path("names", "my notes.txt")
    except FFValidationError as exc:
        spaced, refused_space = None, exc.message
    else:
        refused_space = ""
        store.write_bytes(spaced, b"notes")
    check.that(spaced is not None and spaced.name == "my notes.txt" and store.read_bytes(spaced) == b"notes",
               f"paths: a name with a space is stored and read back {refused_space}".rstrip())
    try:
        store.path("names", "bad\x01name")
        refusal: tuple[Any, ...] = ()
    except FFValidationError as exc:
        refusal = (exc.field, exc.value)
    check.equal(refusal, ("path", "bad\x01name"), "paths: a control character is refused with field 'path' and the part as value")
    data = store.path("names", "locked.json")
    try:
        with ff_file_lock(data, root=store.root), ff_file_lock(data, timeout=0.05, root=store.root):
            timed_out: Any = None
    except FFStorageError as exc:
        timed_out = exc.path
    check.equal(timed_out, data, "locks: a lock not acquired within its timeout names the data file")
    blocked = store.path("names", "blocked.json")
    ff_lock_path(blocked).mkdir(parents=True, exist_ok=True)  # a folder where its lock file goes
    try:
        with ff_file_lock(blocked, root=store.root):
            unopened: Any = None
    except FFStorageError as exc:
        unopened = exc.path
    check.equal(unopened, ff_lock_path(blocked), "locks: a lock file that cannot be opened is named in the error")


@REGISTRY.test("storage contracts: JSONL tail, torn lines, repair, limits, locks, atomic replace, encryption, manifests, listings")
async def storage_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    scratch = (ctx.run_dir / "storage_contracts" / ff_new_id()[:8]).resolve()
    await asyncio.to_thread(lambda: (scratch / "root").mkdir(parents=True))
    store = FFStore(scratch / "root", durability="always", lock_timeout_s=10.0)
    try:
        with check.step("JSONL tail, torn line and repair"):
            await asyncio.to_thread(_check_jsonl, check, store)
        with check.step("record size limit"):
            await asyncio.to_thread(_check_record_limit, check, store)
        with check.step("appends take the lock"):
            await _check_append_waits_for_lock(check, store)
            await _check_append_waits_for_other_process(check, store)
        with check.step("atomic replace"):
            await asyncio.to_thread(_check_atomic_replace, check, store)
        with check.step("encryption"):
            await asyncio.to_thread(_check_encryption, check, scratch / "encrypted")
            await asyncio.to_thread(_check_key_named_by_config, check, scratch / "configured")
        with check.step("key rotation"):
            await asyncio.to_thread(_check_key_rotation, check, scratch / "rotation")
        with check.step("manifest"):
            await asyncio.to_thread(lambda: (scratch / "tree").mkdir())
            await asyncio.to_thread(_check_manifest, check, scratch / "tree")
        with check.step("listing and symlinks"):
            await asyncio.to_thread(_check_listing, check, store, scratch / "outside")
            await asyncio.to_thread(_check_log_reads_through_link, check, store, scratch / "outside")
        with check.step("path names and lock errors"):
            await asyncio.to_thread(_check_path_names, check, store)
    finally:
        await store.io.close()


def _plant_strays(listing: Path, object_dir: Path) -> None:
    """Next to a real object's folder: what crashes, locks and atomic writes leave behind, and a
    hidden staging copy of the object (a listing that takes it would show the object twice)."""
    name = object_dir.name
    (listing / f".{name}{FF_LOCK_SUFFIX}").write_bytes(b"")
    (listing / f".{name}.a1b2c3.tmp").write_bytes(b"{")
    staging = listing / f".{name}.staging.tmp"
    staging.mkdir()
    for item in object_dir.iterdir():
        if item.is_file():
            (staging / item.name).write_bytes(item.read_bytes())
    (listing / "stray-file.json").write_bytes(b"{}")


@REGISTRY.test("listings ignore lock, temp and staging leftovers beside the objects",
               components=("memory", "panel", "knowledge"), depends_on=("memory_round_trip", "panel_round_trip", "knowledge_round_trip"))
async def stray_files_ignored(ctx: FFTestContext, check: FFChecker) -> None:
    user = ctx.new_user("strays")
    with check.step("create one session, panel and knowledge base, and plant leftovers beside each"):
        session = await ctx.memory.create_session(user, title="kept")
        panel = await ctx.panel.create_panel(user, [{"participant_id": "ana"}, {"participant_id": "ben"}], title="kept")
        kb = await ctx.knowledge.create_knowledge_base(user, "kept")
        user_dir = ctx.root / "users" / user

        def plant() -> None:
            for object_id in (session.session_id, panel.panel_id, kb.kb_id):
                found = next(p for p in user_dir.rglob(object_id) if p.is_dir())
                _plant_strays(found.parent, found)

        await asyncio.to_thread(plant)
    with check.step("list them"):
        check.equal([s.session_id for s in await ctx.memory.list_sessions(user)], [session.session_id], "list_sessions: only the session")
        check.equal([p.panel_id for p in await ctx.panel.list_panels(user)], [panel.panel_id], "list_panels: only the panel")
        check.equal([b.kb_id for b in await ctx.knowledge.list_knowledge_bases(user)], [kb.kb_id], "list_knowledge_bases: only the knowledge base")
