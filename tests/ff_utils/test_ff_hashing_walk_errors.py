"""A manifest whose walk fails names the directory it was sorting out, not the file hashed before.

Noticed in the ff_utils census (issue 20): an OSError raised while the walk sorted a directory's
entries (a caller's ``exclude``, a stat) surfaced through the hashing loop as "cannot hash file"
naming the previous file.
"""

from __future__ import annotations

from pathlib import Path
import pytest
from ff_utils.ff_errors import FFError
from ff_utils.ff_hashing import ff_build_manifest

@pytest.mark.parametrize("workers", [1, 2])
def test_an_exclude_that_fails_names_the_directory_not_the_file_before(tmp_path: Path, workers: int) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "sub" / "b.txt").write_bytes(b"b")

    def exclude(relative: str) -> bool:
        if relative == "sub/b.txt":
            raise PermissionError(13, "denied by the caller's rule")
        return False

    with pytest.raises(FFError) as caught:
        ff_build_manifest(tmp_path, exclude=exclude, workers=workers)
    assert caught.value.path == tmp_path / "sub"
