"""The examples of shared/API.md, run as written (with only the elided arguments filled in).

If this file needs changing, the public surface users were promised has changed.
"""

from __future__ import annotations

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers import (
    FFKnowledgeBaseManager,
    FFMemoryLayerManager,
    FFMetricsCollectionManager,
    FFPanelSessionManager,
    FFToolExecutionManager,
)
from ff_utils.ff_errors import FFError, FFNotFoundError, FFPermissionError, FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_safe_path
from ff_utils.ff_json_utils import ff_append_jsonl, ff_read_json, ff_read_jsonl, ff_tail_jsonl, ff_write_json
from ff_utils.ff_logging import get_logger


def test_error_classes_share_one_root():
    for cls in (FFValidationError, FFNotFoundError, FFPermissionError, FFStorageError):
        assert issubclass(cls, FFError)


def test_config_and_utils_examples(tmp_path):
    config = load_config(base_path=tmp_path / "root", environ={})
    assert isinstance(config, FFConfigurationManagerConfigDTO)
    assert config.storage.base_path == tmp_path / "root"
    assert config.integration_testing.performance_config.concurrent_users >= 1
    path = ff_safe_path(ff_ensure_directory(tmp_path / "root"), "users/alice/notes.json")
    ff_write_json(path, {"a": 1})
    assert ff_read_json(path) == {"a": 1}
    log = path.with_name("log.jsonl")
    ff_append_jsonl(log, {"n": 1})
    ff_append_jsonl(log, {"n": 2})
    assert list(ff_read_jsonl(log)) == [{"n": 1}, {"n": 2}] and ff_tail_jsonl(log, 1) == [{"n": 2}]
    ff_atomic_write(path.with_name("raw.bin"), b"\x00\x01")
    assert get_logger("api").name == "ff.api"


async def test_manager_examples(tmp_path):
    config = load_config(base_path=tmp_path, environ={})
    mem = FFMemoryLayerManager(config)
    s = await mem.create_session("alice", title="Trip planning")
    await mem.add_message("alice", s.session_id, role="user", content="hi", attachments=None)
    messages = await mem.get_messages("alice", s.session_id, limit=50)
    assert [m.content for m in messages] == ["hi"]
    e = await mem.store_memory("alice", "likes green tea", layer="short_term", importance=0.7)
    assert (await mem.get_memories("alice", layers=None, limit=50))[0].memory_id == e.memory_id
    assert (await mem.search_memories("alice", "tea", limit=10))[0].entry.memory_id == e.memory_id
    await mem.process_retention(now=None)

    panel = FFPanelSessionManager(config)
    participants = [{"participant_id": "pro", "role": "pro"}, {"participant_id": "con", "role": "con"}]
    p = await panel.create_panel("alice", participants=participants, panel_type="ai_debate", title="Tea or coffee")
    await panel.add_message("alice", p.panel_id, "pro", "Tea is calmer.", role="assistant")
    assert [m.content for m in await panel.get_messages("alice", p.panel_id, limit=100)] == ["Tea is calmer."]
    await panel.record_insight("alice", p.panel_id, "Both sides value calm.")
    analytics = await panel.close_panel("alice", p.panel_id)
    assert analytics is not None

    kb = FFKnowledgeBaseManager(config)
    base = await kb.create_knowledge_base("alice", "physics notes")
    doc = await kb.add_document("alice", base.kb_id, content="Entropy measures disorder in a system.", title="Entropy")
    hits = await kb.search("alice", base.kb_id, "what is entropy", top_k=5)
    assert hits and hits[0].doc_id == doc.doc_id

    tools = FFToolExecutionManager(config)
    assert "word_count" in {t.name for t in tools.list_tools()}
    r = await tools.execute_tool("alice", "word_count", {"text": "one two three"})
    assert r.status.value == "success" and r.exit_code == 0 and r.duration_ms > 0

    metrics = FFMetricsCollectionManager(config)
    for value in (10.0, 12.5, 15.0):
        await metrics.record_metric("latency_ms", value, tags={"op": "search"})
    summary = await metrics.get_summary("latency_ms")
    assert (summary.count, summary.min, summary.max, summary.p50) == (3, 10.0, 15.0, 12.5)
    await metrics.record_event("alice", "login", {"client": "web"})
    assert (await metrics.get_system_metrics()).process_rss_bytes > 0
    for manager in (mem, panel, kb, tools, metrics):
        await manager.shutdown()
