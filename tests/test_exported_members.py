"""Every name a package or module exports in ``__all__`` exists (httpx's test_exported_members).

Generic on purpose: it walks the packages and reads their ``__all__`` at run time, so exports
added later are checked without editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ["ff_utils", "ff_class_configs", "ff_managers", "testing"]


def _modules() -> list[str]:
    names: list[str] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            names.append(info.name)
    return sorted(names)


MODULES = _modules()


def _import(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("package_name", PACKAGES)
def test_package_all_names_exist_and_star_import_works(package_name: str) -> None:
    package = _import(package_name)
    exported = package.__all__
    assert isinstance(exported, list) and len(exported) == len(set(exported)), "duplicate names in __all__"
    missing = [name for name in exported if not hasattr(package, name)]
    assert missing == []
    namespace: dict[str, object] = {}
    exec(f"from {package_name} import *", namespace)  # noqa: S102 - the point is to run the star import
    assert set(exported) <= set(namespace)


@pytest.mark.parametrize("module_name", MODULES)
def test_module_all_names_exist(module_name: str) -> None:
    module = _import(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        pytest.skip(f"{module_name} has no __all__")
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    assert [name for name in exported if not hasattr(module, name)] == []


@pytest.mark.parametrize("package_name", ["ff_utils", "ff_class_configs", "ff_managers"])
def test_package_exports_are_public_objects_of_the_package(package_name: str) -> None:
    package = _import(package_name)
    for name in package.__all__:
        assert not name.startswith("_"), name
        value = getattr(package, name)
        owner = getattr(value, "__module__", None)
        if owner is not None and isinstance(value, type | type(lambda: None)):
            assert owner.startswith(package_name) or owner.startswith("ff_"), (name, owner)


def test_foundation_modules_declare_all() -> None:
    foundation = [
        "ff_utils.ff_errors", "ff_utils.ff_ids", "ff_utils.ff_file_ops", "ff_utils.ff_locks",
        "ff_utils.ff_json_utils", "ff_utils.ff_hashing", "ff_utils.ff_logging",
        "ff_class_configs.ff_configuration_manager_config", "ff_managers.ff_event_bus",
        "ff_managers.ff_component_base", "ff_managers.ff_data_root",
    ]
    assert [name for name in foundation if not hasattr(_import(name), "__all__")] == []
