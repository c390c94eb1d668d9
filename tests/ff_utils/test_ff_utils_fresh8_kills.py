"""Survivors of the uniform mutation sample of seed 20261208 in ``ff_utils`` (issue 20, "Detection
power"), killed by the behaviour a caller sees: a folder removed under the walk as fast as it is
made is FFNotFoundError naming the path, a missing folder is reported by its name, an undecodable
record keeps its line number, a refused symlink is named by its own name, and a store's default
batch fsync interval is the documented 200 ms. The equivalent ones are listed in
docs/mutation/equivalent/ff_utils/sample-20261208.toml.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_utils._jsonl_read import FFBadLine, ff_read_jsonl
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_read_bytes
from ff_utils.ff_store import FFStore, FFStoreSettings


def test_a_folder_removed_as_soon_as_it_is_made_is_not_found_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dir_fd._open_dir_at 33: after two lost races the last open's FileNotFoundError is
    # translated (FFNotFoundError for the whole path), not a TypeError from a lost name.
    real_mkdir = os.mkdir
    made: list[str] = []

    def made_then_removed(name: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real_mkdir(name, mode, dir_fd=dir_fd)
        made.append(name)
        os.rmdir(name, dir_fd=dir_fd)  # a concurrent remover wins every time

    monkeypatch.setattr(os, "mkdir", made_then_removed)
    target = tmp_path / "sub" / "doc.json"
    with pytest.raises(FFNotFoundError) as caught:
        ff_atomic_write(target, b"x", root=tmp_path)
    monkeypatch.undo()
    assert made == ["sub", "sub"]  # two attempts, then the final open
    assert caught.value.message == "cannot open directory: no such file"
    assert caught.value.key == str(target)
    assert caught.value.path == target
    assert sorted(tmp_path.iterdir()) == []


def test_a_missing_folder_without_a_root_is_not_found_naming_the_folder(tmp_path: Path) -> None:
    # _dir_fd.ff_walk_parent 21: with no root the error names the folder that is missing.
    folder = tmp_path / "missing"
    with pytest.raises(FFNotFoundError) as caught:
        ff_read_bytes(folder / "doc.bin")
    assert caught.value.message == "cannot open directory: no such file"
    assert caught.value.key == str(folder)
    assert caught.value.path == folder
    assert str(caught.value) == f"cannot open directory: no such file ({folder})"


def test_an_undecodable_record_is_reported_with_its_line_number(tmp_path: Path) -> None:
    # _jsonl_read._parse_coded 16: the decoder's refusal keeps the line number, as invalid JSON does.
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"n": 1}\nBAD\n\n{"n": 4}\n')

    def decode(line: bytes) -> bytes:
        if line == b"BAD":
            raise ValueError("not a coded line")
        return line

    bad: list[FFBadLine] = []
    assert list(ff_read_jsonl(log, on_bad_line=bad.append, decode=decode)) == [{"n": 1}, {"n": 4}]
    assert bad == [FFBadLine(log, 9, "undecodable record: not a coded line", False, 2)]
    assert bad[0].line_number == 2


@pytest.mark.parametrize("with_root", [True, False])
def test_reading_through_a_symlink_is_refused_naming_the_link_by_its_name(tmp_path: Path, with_root: bool) -> None:
    # ff_file_ops.ff_open_read 26: the message names the link ("doc.bin"), the value is the path.
    (tmp_path / "real.bin").write_bytes(b"secret")
    link = tmp_path / "doc.bin"
    link.symlink_to(tmp_path / "real.bin")
    with pytest.raises(FFValidationError) as caught:
        ff_read_bytes(link, root=tmp_path if with_root else None)
    assert caught.value.message == "unsafe path: symlink 'doc.bin' below the data root"
    assert caught.value.field == "path"
    assert caught.value.value == str(link)


def test_a_store_batches_fsyncs_every_200_ms_by_default_as_the_configuration_does(tmp_path: Path) -> None:
    # ff_store.FFStore.__init__ 3: the default interval is the settings' and the config's 200 ms.
    store = FFStore(tmp_path)
    assert store.batch_interval_s == 0.2
    assert store.settings == FFStoreSettings()
    configured = FFStore.from_config(load_config(base_path=tmp_path, environ={}))
    assert configured.settings.batch_interval_s == store.batch_interval_s
