"""The legacy data generator is deterministic for a seed and scales by size."""

from __future__ import annotations

from pathlib import Path

import numpy

from ff_managers import FFMigrationManager
from ff_utils.ff_hashing import ff_build_manifest
from testing.migration import FFLegacyGeneratorConfig, generate_legacy_root


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    config = FFLegacyGeneratorConfig(seed=42, users=3, sessions_per_user=2)
    a = generate_legacy_root(tmp_path / "a", config)
    b = generate_legacy_root(tmp_path / "b", config)
    generate_legacy_root(tmp_path / "c", config.model_copy(update={"seed": 43}))
    assert ff_build_manifest(tmp_path / "a").same_content(ff_build_manifest(tmp_path / "b"))
    assert not ff_build_manifest(tmp_path / "a").same_content(ff_build_manifest(tmp_path / "c"))
    assert a.model_dump(exclude={"root"}) == b.model_dump(exclude={"root"})
    assert not list((tmp_path / "a").rglob(".*.lock"))


def test_generated_root_has_the_real_fixtures_habits(tmp_path: Path) -> None:
    generated = generate_legacy_root(tmp_path / "g", FFLegacyGeneratorConfig(seed=1))
    inventory = FFMigrationManager.scan_legacy(tmp_path / "g")
    kinds = {i.kind for i in inventory.irregular}
    assert {"no_session_json", "no_messages", "empty_session", "stray_file", "no_user_data"} <= kinds
    assert [s.kind for s in inventory.sessions()].count("panel") == generated.panels == 1
    assert len(inventory.vector_sets) == 1 and inventory.vector_sets[0].owner_user_id == "user_000"
    npy = tmp_path / "g" / inventory.vector_sets[0].relative_dir / "embeddings.npy"
    embeddings = numpy.load(npy)  # a well-formed .npy that numpy itself reads
    assert (embeddings.dtype.str, embeddings.shape) == ("<f8", (6, 32))


def test_target_bytes_scales_the_root(tmp_path: Path) -> None:
    small = generate_legacy_root(tmp_path / "s", FFLegacyGeneratorConfig(seed=3, users=2, sessions_per_user=1))
    big = generate_legacy_root(tmp_path / "b", FFLegacyGeneratorConfig(seed=3, users=2, sessions_per_user=1, target_bytes=2_000_000))
    assert big.bytes >= 2_000_000 > small.bytes
    assert big.sessions > small.sessions
