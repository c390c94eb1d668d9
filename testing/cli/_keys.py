"""Encryption keys: `keys generate` makes one, `keys rotate` re-encrypts a data root, `keys status` tells.

Rotation is crash-safe and resumable (see :mod:`ff_utils.ff_key_rotation`): ``ff_meta.json`` first
records both key ids, then every file is re-encrypted and atomically replaced, then the meta
names only the new key. Killed half-way, the root refuses to open ("rotation under way") until
the same command is run again, which skips the files already done. Run it with the service
stopped: a process still writing with the old key would add old-key records after the switch.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers.ff_data_root import FFEncryptionMetaDTO, ff_read_meta, ff_set_encryption
from ff_utils.ff_encryption import FFKey, ff_generate_key_text, ff_parse_key, ff_read_key_file, ff_resolve_key
from ff_utils.ff_errors import FFConfigError, FFValidationError, ff_translate_errors
from ff_utils.ff_key_rotation import ff_reencrypt_tree

from ._registry import EXIT_CHECK_FAILED, EXIT_OK, command

__all__ = ["cmd_keys"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["generate", "rotate", "status"], help="what to do")
    parser.add_argument("--data-dir", type=Path, help="data root (default: the configured one, ./ff_data)")
    parser.add_argument("--out", type=Path, help="generate: write the new key to this file (0600) instead of printing it")
    parser.add_argument("--new-key-file", type=Path, help="rotate: the key to re-encrypt with")
    parser.add_argument(
        "--old-key-file", type=Path, help="rotate: the root's current key (default: the configured one, or FF_ENCRYPTION_KEY)"
    )


def _generate(args: argparse.Namespace, root: Path, console: Console) -> int:
    text = ff_generate_key_text()
    key_id = ff_parse_key(text, source="the new key").key_id
    if args.out is None:
        console.print(text, highlight=False, soft_wrap=True)
        return EXIT_OK
    target = args.out.expanduser().resolve()
    if target == root or root in target.parents:
        raise FFConfigError(f"{target} is inside the data root {root}; keep the key elsewhere", field="out")
    with ff_translate_errors("write key file", target):
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
    console.print(f"new key written to {target} (key id {key_id}); keep a copy: without it the data cannot be read")
    return EXIT_OK


def _configured_key(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, root: Path) -> FFKey | None:
    storage = config.storage
    key_file = args.old_key_file if args.old_key_file is not None else storage.encryption_key_file
    return ff_resolve_key(key_file, data_root=root, env_var=storage.encryption_key_env)


def _rotate(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, root: Path, console: Console) -> int:
    if args.new_key_file is None:
        raise FFValidationError("keys rotate needs --new-key-file", field="new_key_file")
    meta = ff_read_meta(root)
    if meta is None:
        raise FFValidationError(f"no data root at {root} (no ff_meta.json)", field="data_dir", path=root)
    new = ff_read_key_file(args.new_key_file, data_root=root)
    encryption = meta.encryption
    current = encryption.key_id if encryption is not None else None
    if encryption is not None and encryption.rotating_to not in (None, new.key_id):
        raise FFConfigError(
            f"a rotation to key {encryption.rotating_to} is under way; finish it with that key file first", field="new_key_file"
        )
    if current == new.key_id and (encryption is None or encryption.rotating_to is None):
        console.print(f"{root} is already encrypted with key {new.key_id}; nothing to do")
        return EXIT_OK
    old = _configured_key(args, config, root) if current is not None else None
    if current is not None and (old is None or old.key_id != current):
        found = f"id {old.key_id}" if old is not None else "none"
        raise FFConfigError(
            f"the root is encrypted with key {current}; give that key (--old-key-file, storage.encryption_key_file "
            f"or FF_ENCRYPTION_KEY), found {found}",
            field="old_key_file",
        )
    started = encryption.rotation_started_at if encryption is not None and encryption.rotating_to else None
    ff_set_encryption(root, FFEncryptionMetaDTO(key_id=current, rotating_to=new.key_id, rotation_started_at=started or datetime.now(UTC)))
    report = ff_reencrypt_tree(root, old=old, new=new)
    ff_set_encryption(root, FFEncryptionMetaDTO(key_id=new.key_id))
    console.print(
        f"re-encrypted {root}: {report.files_rewritten} file(s) rewritten ({report.records_rewritten} record(s)), "
        f"{report.files_already_done} already under key {new.key_id}; now point storage.encryption_key_file "
        "(or FF_ENCRYPTION_KEY) at the new key"
    )
    for problem in report.unreadable:
        console.print(f"  unreadable, left as it was: {problem}")
    return EXIT_CHECK_FAILED if report.unreadable else EXIT_OK


def _status(config: FFConfigurationManagerConfigDTO, root: Path, console: Console) -> int:
    meta = ff_read_meta(root)
    if meta is None:
        raise FFValidationError(f"no data root at {root} (no ff_meta.json)", field="data_dir", path=root)
    encryption = meta.encryption
    storage = config.storage
    key = ff_resolve_key(storage.encryption_key_file, data_root=root, env_var=storage.encryption_key_env)
    state = "plaintext" if encryption is None else f"encrypted ({encryption.algorithm}, key {encryption.key_id})"
    if encryption is not None and encryption.rotating_to:
        state += f"; rotation to key {encryption.rotating_to} under way: run `keys rotate` again to finish it"
    console.print(f"{root}: {state}; configured key: {key.key_id if key is not None else 'none'}")
    expected = encryption.key_id if encryption is not None else None
    return EXIT_OK if (key.key_id if key is not None else None) == expected else EXIT_CHECK_FAILED


@command("keys", "encryption at rest: generate a key, rotate a data root to a new key, or show its state", _arguments)
def cmd_keys(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    root = Path(args.data_dir or config.storage.base_path).resolve()
    if args.action == "generate":
        return _generate(args, root, console)
    if args.action == "rotate":
        return _rotate(args, config, root, console)
    return _status(config, root, console)
