"""The same-versions rule: what is compared, and that a difference is named."""

from __future__ import annotations

from testing.distributed import compare_versions, local_versions, package_names
from testing.distributed._versions import SOURCE_KEY


def test_the_compared_packages_are_ours_dasks_and_our_runtime_dependencies() -> None:
    names = package_names()
    for expected in ("ff-platform", "dask", "distributed", "cloudpickle", "pydantic", "orjson"):
        assert expected in names
    assert "pytest" not in names  # test tools do not change what a suite does


def test_local_versions_include_python_and_a_source_digest() -> None:
    found = local_versions(["pydantic", "surely-not-a-package-ff"])
    assert found["python"].count(".") == 2
    assert found["surely-not-a-package-ff"] == "not installed"
    assert len(found[SOURCE_KEY]) == 16
    assert local_versions([])[SOURCE_KEY] == found[SOURCE_KEY]  # stable between calls


def test_compare_names_machine_package_and_both_versions() -> None:
    mine = {"python": "3.11.7", "pydantic": "2.14.3"}
    same = {"worker tls://a:1": dict(mine)}
    assert compare_versions(mine, same) == []
    other = {"worker tls://b:2": {"python": "3.11.7", "pydantic": "2.13.0"}, "worker tls://a:1": dict(mine)}
    assert compare_versions(mine, other) == ["pydantic: client 2.14.3, worker tls://b:2 2.13.0"]
    assert compare_versions(mine, {"scheduler": {"python": "3.12.1"}}, ["python"]) == ["python: client 3.11.7, scheduler 3.12.1"]
    assert compare_versions(mine, {"worker w": {"python": "3.11.7"}}) == ["pydantic: client 2.14.3, worker w not installed"]
