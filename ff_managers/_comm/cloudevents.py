"""The CloudEvents 1.0 form of a message (structured JSON mode), both ways.

=====================  ==========================================================================
message field          CloudEvents attribute
=====================  ==========================================================================
message_id             ``id``
source_system          ``source`` (``/ff/<source_system>``, a URI-reference)
message_type           ``type`` (``org.ffplatform.<message_type>``, e.g. ``org.ffplatform.request``)
timestamp              ``time`` (RFC 3339)
payload                ``data`` (``datacontenttype: application/json``), or gzip in
                       ``data_base64`` with ``ffencoding: gzip`` past ``compress_above_bytes``
target_system          ``subject``
operation              extension ``ffoperation``
priority               extension ``priority`` (low, normal, high, critical, emergency)
ttl_s                  extension ``ttl`` (seconds, a string: CloudEvents has no float type)
correlation_id         extension ``correlationid``
reply_to               extension ``replyto``
retry_count            extension ``retrycount`` (integer)
max_retries            extension ``maxretries`` (integer)
headers                extension ``ffheaders`` (the JSON object as a string)
=====================  ==========================================================================

Extension names follow the spec (lower-case letters and digits, at most 20 characters);
``specversion`` is ``1.0``. ``from_cloudevent`` checks the required attributes and types and
raises FFValidationError naming the attribute; compressed data is inflated with a bound
(``max_bytes``), so a small event cannot expand into a zip bomb.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers._comm.compression import ff_maybe_gzip
from ff_utils.ff_errors import FFValidationError, ff_input_error
from ff_utils.ff_gzip import ff_gunzip_bounded

__all__ = ["TYPE_PREFIX", "from_cloudevent", "to_cloudevent"]

TYPE_PREFIX = "org.ffplatform."
_SOURCE_PREFIX = "/ff/"
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_REQUIRED = ("specversion", "id", "source", "type")


def to_cloudevent(message: FFCrossSystemMessageDTO, *, compress_above_bytes: int = 0) -> dict[str, Any]:
    """The structured-mode CloudEvent (a JSON object) of ``message``."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": message.message_id,
        "source": _SOURCE_PREFIX + message.source_system,
        "type": TYPE_PREFIX + message.message_type,
        "subject": message.target_system,
        "time": message.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "priority": message.priority,
        "retrycount": message.retry_count,
        "maxretries": message.max_retries,
    }
    optional = {"ffoperation": message.operation, "correlationid": message.correlation_id, "replyto": message.reply_to,
                "ttl": None if message.ttl_s is None else repr(float(message.ttl_s)),
                "ffheaders": orjson.dumps(message.headers).decode() if message.headers else None}  # fmt: skip
    event |= {name: value for name, value in optional.items() if value is not None}
    if message.payload is not None:
        try:
            raw = orjson.dumps(message.payload)
        except TypeError as exc:  # an int past 64 bits, a non-str key, an object JSON cannot hold
            raise FFValidationError(f"the payload is not JSON-encodable: {exc}", field="payload") from exc
        packed, encoding = ff_maybe_gzip(raw, compress_above_bytes)
        if encoding:
            event["data_base64"] = base64.b64encode(packed).decode("ascii")
            event["ffencoding"] = encoding
        else:
            event["data"] = message.payload
    return event


def _text(event: dict[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is not None and not isinstance(value, str):
        raise FFValidationError(f"CloudEvents attribute {name!r} must be a string", field=name, value=value)
    return value


def _data(event: dict[str, Any], max_bytes: int) -> Any:
    if "data" in event and "data_base64" in event:
        raise FFValidationError("a CloudEvent has data or data_base64, not both", field="data")
    if "data_base64" not in event:
        return event.get("data")
    try:
        raw = base64.b64decode(event["data_base64"], validate=True)
    except (ValueError, TypeError) as exc:
        raise FFValidationError("data_base64 is not base64", field="data_base64") from exc
    encoding = _text(event, "ffencoding")
    if encoding == "gzip":
        raw = ff_gunzip_bounded(raw, max_bytes)
    elif encoding is not None:
        raise FFValidationError(f"unknown ffencoding {encoding!r}", field="ffencoding")
    if len(raw) > max_bytes:
        raise FFValidationError(f"data exceeds {max_bytes} bytes", field="data_base64")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FFValidationError("the event's data is not JSON", field="data") from exc


def from_cloudevent(event: dict[str, Any], *, max_bytes: int = 16 * 1024 * 1024) -> FFCrossSystemMessageDTO:
    """The message of a structured-mode CloudEvent made by :func:`to_cloudevent` (or any 1.0 event of an FF type)."""
    if not isinstance(event, dict):
        raise FFValidationError("a CloudEvent is a JSON object", field="event")
    for name in _REQUIRED:
        if not _text(event, name):
            raise FFValidationError(f"the CloudEvent has no {name!r}", field=name)
    if event["specversion"] != "1.0":
        raise FFValidationError(f"specversion {event['specversion']!r} is not 1.0", field="specversion")
    for name in event:
        if name not in ("data", "data_base64") and not _EXTENSION_NAME.match(name):
            raise FFValidationError(f"invalid CloudEvents attribute name {name!r}", field=name)
    kind = event["type"]
    if not kind.startswith(TYPE_PREFIX):
        raise FFValidationError(f"type {kind!r} is not an FF message type ({TYPE_PREFIX}...)", field="type")
    source = event["source"]
    headers = _text(event, "ffheaders")
    ttl = _text(event, "ttl")
    fields: dict[str, Any] = {
        "message_id": event["id"],
        "message_type": kind.removeprefix(TYPE_PREFIX),
        "source_system": source.removeprefix(_SOURCE_PREFIX),
        "target_system": _text(event, "subject") or "",
        "operation": _text(event, "ffoperation"),
        "priority": _text(event, "priority") or "normal",
        "payload": _data(event, max_bytes),
        "headers": orjson.loads(headers) if headers else {},
        "correlation_id": _text(event, "correlationid"),
        "reply_to": _text(event, "replyto"),
        "retry_count": event.get("retrycount", 0),
        "max_retries": event.get("maxretries", 3),
    }
    if ttl is not None:
        try:
            fields["ttl_s"] = float(ttl)
        except ValueError as exc:
            raise FFValidationError("ttl must be a number of seconds", field="ttl", value=ttl) from exc
    time = _text(event, "time")
    if time is not None:
        try:
            fields["timestamp"] = datetime.fromisoformat(time.replace("Z", "+00:00"))
        except ValueError as exc:
            raise FFValidationError("time is not RFC 3339", field="time", value=time) from exc
    try:
        return FFCrossSystemMessageDTO.model_validate(fields)
    except ValidationError as exc:
        raise ff_input_error(exc, action="from_cloudevent") from exc
