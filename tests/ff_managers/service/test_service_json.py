"""Answers are serialised once, straight to JSON bytes, with the same content as ``model_dump(mode="json")``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson

from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_class_configs.ff_metrics_dtos import FFMetricSummaryDTO
from ff_managers._service.dispatch import to_json


def _message(n: int, **fields: object) -> FFChatMessageDTO:
    base = {"message_id": f"msg_{n:032x}", "session_id": "ses_abc", "role": "user", "content": f"héllo\n\"{n}\" 🙂 \u2028",
            "timestamp": datetime(2026, 12, 5, 11, 0, n, 123456, tzinfo=UTC)}  # fmt: skip
    return FFChatMessageDTO(**{**base, **fields})


def _wire(value: object) -> object:
    """What a client parses: the HTTP body and the JSON-RPC ``result`` member."""
    body = orjson.loads(orjson.dumps(to_json(value)))
    envelope = orjson.loads(orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": to_json(value)}))
    assert envelope["result"] == body
    return body


def _dumped(dto: FFChatMessageDTO | FFMetricSummaryDTO) -> object:
    """What the answer was before: ``model_dump(mode="json")`` encoded by orjson (NaN becomes null)."""
    return orjson.loads(orjson.dumps(dto.model_dump(mode="json")))


def test_a_dto_and_a_list_of_dtos_reach_the_wire_as_model_dump_json_mode_gives_them() -> None:
    odd = [
        _message(1),
        _message(2, timestamp=datetime(2001, 1, 1, 0, 0)),  # naive (legacy imports keep theirs)
        _message(3, timestamp=datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))),
        _message(4, metadata={"big": 2**63 - 1, "f": 0.1, "tiny": 5e-324, "e": 1e300, "nested": [{"a": None, "b": True}]},
                 extra={"legacy_field": ["x", 1.5]}),
    ]
    assert _wire(odd[0]) == _dumped(odd[0])
    assert _wire(odd) == [_dumped(m) for m in odd]
    assert _wire([]) == []
    summary = FFMetricSummaryDTO(name="m", kind="timing", count=2, sum=3.0, min=1.0, max=2.0, mean=1.5, p50=1.5, p95=float("nan"),
                                  p99=None, last=2.0, window_start=datetime(2026, 12, 5, tzinfo=UTC), window_end=None,
                                  window_end_inclusive=True)  # fmt: skip
    assert _wire(summary) == _dumped(summary)


def test_plain_data_is_left_for_orjson() -> None:
    assert to_json({"accepted": True, "name": "m"}) == {"accepted": True, "name": "m"}
    assert to_json(["a", 1]) == ["a", 1]
    mixed = [_message(1), {"not": "a dto"}]
    assert to_json(mixed) is mixed
