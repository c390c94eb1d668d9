"""Attachment bytes in the artifact store (storage.artifacts_url), on moto's S3 server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_artifact_store import SHA256_METADATA
from ff_utils.ff_encryption import ff_generate_key_text
from ff_utils.ff_errors import FFArtifactStoreError, FFNotFoundError
from tests._s3 import S3Endpoint

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _manager(root: Path, s3: S3Endpoint, **storage: Any) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=root, environ={}, overrides={
        "storage": {"artifacts_url": s3.url("chat"), "artifacts_options": s3.options, **storage}}))


@pytest.fixture
async def mem(tmp_path: Path, s3: S3Endpoint) -> AsyncIterator[FFMemoryLayerManager]:
    manager = _manager(tmp_path / "root", s3)
    await manager.initialize()
    yield manager
    await manager.shutdown()


async def _send(mem: FFMemoryLayerManager, session_id: str) -> Any:
    return await mem.add_message("alice", session_id, role="user", content="see picture",
                                 attachments=[{"name": "cat.png", "mime_type": "image/png", "data": PNG}])


def _local(root: Path, session_id: str, attachment_id: str) -> Path:
    return root / "users" / "alice" / "sessions" / session_id / "attachments" / attachment_id


async def test_an_attachment_is_uploaded_and_read_back_when_the_local_copy_is_gone(
    mem: FFMemoryLayerManager, s3: S3Endpoint, tmp_path: Path
) -> None:
    session = await mem.create_session("alice")
    [image] = (await _send(mem, session.session_id)).attachments
    key = f"chat/attachments/alice/{session.session_id}/{image.attachment_id}"
    stored = s3.client().get_object(Bucket=s3.bucket, Key=key)
    assert stored["Body"].read() == PNG and stored["Metadata"][SHA256_METADATA] == image.sha256
    local = _local(tmp_path / "root", session.session_id, image.attachment_id)
    local.unlink()  # the local disk lost it
    assert await mem.get_attachment("alice", session.session_id, image.attachment_id) == PNG
    assert local.read_bytes() == PNG  # put back in place
    with pytest.raises(FFNotFoundError):
        await mem.get_attachment("alice", session.session_id, "never-stored")


async def test_a_corrupted_stored_attachment_is_a_typed_error(mem: FFMemoryLayerManager, s3: S3Endpoint, tmp_path: Path) -> None:
    session = await mem.create_session("alice")
    [image] = (await _send(mem, session.session_id)).attachments
    key = f"chat/attachments/alice/{session.session_id}/{image.attachment_id}"
    # Planted defect: the object swapped for other bytes, its recorded checksum kept.
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=b"not the picture", Metadata={SHA256_METADATA: image.sha256})
    local = _local(tmp_path / "root", session.session_id, image.attachment_id)
    local.unlink()
    with pytest.raises(FFArtifactStoreError) as caught:
        await mem.get_attachment("alice", session.session_id, image.attachment_id)
    assert caught.value.reason == "checksum_mismatch" and not local.exists()


async def test_an_unreachable_store_refuses_the_message_and_leaves_nothing_behind(
    mem: FFMemoryLayerManager, s3: S3Endpoint, tmp_path: Path
) -> None:
    session = await mem.create_session("alice")
    await mem.add_message("alice", session.session_id, role="user", content="before")
    s3.stop()
    with pytest.raises(FFArtifactStoreError) as caught:
        await _send(mem, session.session_id)
    assert caught.value.reason == "unreachable"
    folder = tmp_path / "root" / "users" / "alice" / "sessions" / session.session_id / "attachments"
    assert not folder.exists() or list(folder.iterdir()) == []
    assert [m.content for m in await mem.get_messages("alice", session.session_id)] == ["before"]
    # Messages without attachment bytes never touch the store.
    await mem.add_message("alice", session.session_id, role="user", content="after")


async def test_with_encryption_at_rest_the_store_holds_ciphertext_only(
    tmp_path: Path, s3: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FF_TEST_ATTACHMENT_KEY", ff_generate_key_text())
    mem = _manager(tmp_path / "root", s3, encryption_key_env="FF_TEST_ATTACHMENT_KEY")
    await mem.initialize()
    try:
        session = await mem.create_session("alice")
        [image] = (await _send(mem, session.session_id)).attachments
        key = f"chat/attachments/alice/{session.session_id}/{image.attachment_id}"
        body = s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        assert PNG[8:64] not in body and body == _local(tmp_path / "root", session.session_id, image.attachment_id).read_bytes()
        os.unlink(_local(tmp_path / "root", session.session_id, image.attachment_id))
        assert await mem.get_attachment("alice", session.session_id, image.attachment_id) == PNG
    finally:
        await mem.shutdown()
