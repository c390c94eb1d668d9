"""SEC-ENC-01: a canary stored through every manager is never on disk in plaintext.

The check runs on its own data root with the configured key, or a throwaway key the suite makes
when none is configured, so it really runs in every validation run. The planted defect is a store
whose encryption middleware leaves one manager's files (the panels) in plaintext: the check must
fail and name those files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFSecurityCheckDTO, FFTestStatus
from ff_utils.ff_encryption import FFEncryptionMiddleware, ff_generate_key_text
from ff_utils.ff_store import FFStore
from ff_utils.ff_store_middleware import LineCodec
from testing.ff_integration_test_manager import FFIntegrationTestManager


class _PanelsInPlaintext(FFEncryptionMiddleware):
    """Encrypts everything except what the panel manager stores (the planted defect)."""

    @staticmethod
    def _plain(relative: str) -> bool:
        return "/panels/" in f"/{relative}"

    def encode_document(self, relative: str, data: bytes) -> bytes:
        return data if self._plain(relative) else super().encode_document(relative, data)

    def decode_document(self, relative: str, data: bytes, path: Path) -> bytes:
        return data if self._plain(relative) else super().decode_document(relative, data, path)

    def line_encoder(self, relative: str) -> LineCodec | None:  # type: ignore[override]
        return None if self._plain(relative) else super().line_encoder(relative)

    def line_decoder(self, relative: str) -> LineCodec | None:  # type: ignore[override]
        return None if self._plain(relative) else super().line_decoder(relative)


class PanelsInPlaintextStore(FFStore):
    @classmethod
    def from_config(cls, config: Any) -> FFStore:
        store = super().from_config(config)
        if store.encrypted:
            store.middleware = _PanelsInPlaintext(store.middleware.key)  # type: ignore[attr-defined]
        return store


async def _run_check(tmp_path: Path, environ: dict[str, str], **parts: Any) -> FFSecurityCheckDTO:
    overrides = {"integration_testing": {"max_retry_attempts": 0, "test_timeout_seconds": 120.0}}
    manager = FFIntegrationTestManager(load_config(environ=environ, overrides=overrides), output_dir=tmp_path / "out", **parts)
    try:
        suite = await manager.run_suite("security", only=["encryption_at_rest"])
    finally:
        await manager.close()
    (result,) = suite.results
    check = FFSecurityCheckDTO.model_validate(result.details["security_check"])
    assert (result.status == FFTestStatus.PASSED) == check.passed, (result.status, result.error_message, check.observed)
    return check


async def test_the_check_runs_with_a_throwaway_key_when_none_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_ENCRYPTION_KEY", raising=False)
    check = await _run_check(tmp_path, {})
    assert check.passed, check.observed
    assert "throwaway key" in check.observed
    assert "stores that encrypt: knowledge, memory, metrics, panel, tools" in check.observed
    assert "0 of " in check.observed


async def test_the_check_uses_the_configured_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_ENCRYPTION_KEY", ff_generate_key_text())
    check = await _run_check(tmp_path, {})
    assert check.passed, check.observed
    assert "the configured key" in check.observed


async def test_one_manager_left_in_plaintext_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_ENCRYPTION_KEY", raising=False)
    check = await _run_check(tmp_path, {}, store_factory=PanelsInPlaintextStore.from_config)
    assert not check.passed
    assert "hold the canary in plaintext" in check.observed and "/panels/" in check.observed
    assert "FAILED: no file under the data root holds the canary in plaintext" in check.observed
