"""``add_documents`` pinned exactly (issue 20, survivors of ``check_batch`` and ``FFKbIngest.write_many``).

The batch's own refusals with their message, ``field`` and ``value``, its size at both edges,
every field a batch item accepts read back by a manager that did not write it, a repeat inside
one batch answered with the copy planned earlier in that batch, and a conflict naming its base
and document.
"""

from __future__ import annotations

import pytest

from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.checks import check_batch
from ff_utils.ff_errors import FFConflictError, FFValidationError


@pytest.mark.parametrize("items", ["ab", b"ab", bytearray(b"ab"), {"content": "x"}, None, 3, {1, 2}, iter([{}])],
                         ids=["str", "bytes", "bytearray", "dict", "none", "int", "set", "iterator"])
def test_a_batch_that_is_not_a_list_is_refused(items: object) -> None:
    with pytest.raises(FFValidationError) as caught:
        check_batch(items, 5)
    assert (caught.value.message, caught.value.field, caught.value.value) == ("documents must be a list of mappings", "documents", None)


@pytest.mark.parametrize("size", [0, 6, 1_234])
def test_a_batch_outside_one_to_maximum_is_refused_with_its_size(size: int) -> None:
    with pytest.raises(FFValidationError) as caught:
        check_batch([{}] * size, 5)
    assert caught.value.message == f"a batch holds 1 to 5 documents, not {size:,}"
    assert (caught.value.field, caught.value.value) == ("documents", size)


def test_big_numbers_in_the_size_refusal_are_grouped() -> None:
    with pytest.raises(FFValidationError) as caught:
        check_batch([{}] * 1_001, 1_000)
    assert caught.value.message == "a batch holds 1 to 1,000 documents, not 1,001"


@pytest.mark.parametrize("size", [1, 5])
def test_one_and_maximum_items_are_accepted_as_a_list(size: int) -> None:
    items = tuple({"content": str(i)} for i in range(size))
    assert check_batch(items, 5) == list(items)
    assert check_batch(list(items), 5) == list(items)


async def test_every_field_of_a_batch_item_is_read_back_by_another_manager(config) -> None:
    item = {"content": "Ohm's law relates voltage, current and resistance.", "format": "text", "title": "Ohm",
            "source": "https://example.org/ohm", "metadata": {"tags": ["physics"], "level": 2}, "document_id": "ohm-law"}  # fmt: skip
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics")
        [doc] = await kb.add_documents("alice", base.kb_id, [item])
    assert (doc.doc_id, doc.title, doc.source, doc.metadata, doc.format) == ("ohm-law", "Ohm", "https://example.org/ohm", {"tags": ["physics"], "level": 2}, "text")
    async with FFKnowledgeBaseManager(config) as kb:
        assert await kb.get_document("alice", base.kb_id, "ohm-law") == doc
        assert await kb.list_documents("alice", base.kb_id) == [doc]


async def test_a_repeat_inside_one_batch_is_the_copy_planned_before_it(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics")
        first, again = await kb.add_documents("alice", base.kb_id, [
            {"content": "Heat flows from hot to cold.", "source": "notes", "metadata": {"page": 3}},
            {"content": "Heat flows from hot to cold.", "source": "other", "metadata": {"page": 9}},
        ])  # fmt: skip
        assert again == first and first.source == "notes" and first.metadata == {"page": 3}
        assert await kb.list_documents("alice", base.kb_id) == [first]


async def test_a_conflicting_id_in_a_batch_names_the_base_and_the_document(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics")
        await kb.add_documents("alice", base.kb_id, [{"content": "one", "document_id": "d1"}])
        with pytest.raises(FFConflictError) as caught:
            await kb.add_documents("alice", base.kb_id, [{"content": "two", "document_id": "d1"}])
        assert caught.value.message == "document 'd1' already holds other content; delete it first"
        assert caught.value.context == {"kb_id": base.kb_id, "doc_id": "d1"}


async def test_a_batch_item_given_as_bytes_is_stored(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics")
        [doc] = await kb.add_documents("alice", base.kb_id, [{"data": "Snell's law: n1 sin a = n2 sin b".encode(), "format": "text"}])
        assert (doc.size_bytes, doc.format) == (len("Snell's law: n1 sin a = n2 sin b"), "text")
        assert await kb.get_document_text("alice", base.kb_id, doc.doc_id) == "Snell's law: n1 sin a = n2 sin b"


@pytest.mark.parametrize(("item", "message", "field", "value"), [
    ({"content": "x" * 101}, "documents[1].content: document of 101 bytes exceeds max_document_bytes (100)", "documents[1].content", 101),
    ({"data": b"\xffok", "format": "text"}, "documents[1].data: text document is not UTF-8 (byte 0: invalid start byte)", "documents[1].data", None),
])  # fmt: skip
async def test_a_batch_item_refused_while_preparing_names_its_index_and_field(tmp_path, item, message, field, value) -> None:
    from ff_class_configs import load_config
    from ff_utils.ff_errors import FFValidationError as Refused

    config = load_config(base_path=tmp_path, environ={}, overrides={"knowledge": {"max_document_bytes": 100}})
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics")
        with pytest.raises(Refused) as caught:
            await kb.add_documents("alice", base.kb_id, [{"content": "fine"}, item])
        assert (caught.value.message, caught.value.field, caught.value.value) == (message, field, value)
        assert await kb.list_documents("alice", base.kb_id) == []
