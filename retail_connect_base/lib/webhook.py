"""The webhook verifier contract, and the checks every delivery passes.

A platform addon gives the base one ``Verifier`` per backend. Before any of it
runs, the route refuses what Odoo would otherwise parse or read unbounded
(:func:`check_envelope`: no Content-Length, too large, a form body). The base
controller then reads the raw body (bounded) and calls ``accept``, which calls
the platform's ``verify``: it must check the signature in constant time against
every accepted secret and return a ``Delivery`` (reading the body with
:func:`parse_json`, its timestamp with :func:`parse_timestamp`), or raise
``WebhookRejected``. ``accept`` then makes the generic checks, the same for
every platform: bounded, printable keys; the timestamp when the platform always
sends one; the replay window; topics the platform does not handle parked. The
base does the rest (dedup on the event id and on the body digest, store,
enqueue).
"""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate

from .errors import WebhookRejected

# The largest body any backend may accept (the route's max_content_length);
# each backend has its own limit below it (``webhook_max_bytes``).
MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_BYTES = 1024 * 1024
# Platform payloads nest a few levels (an order's line's tax's price set:
# about 7); deeper is refused before Python's recursive parser sees it.
MAX_DEPTH = 32
# Every key the suite stores from a delivery (event id, topic, subject,
# correlation id) fits a column index and a log line.
MAX_KEY_LENGTH = 255
# Content types Odoo parses into form fields before any handler runs.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# How far in the future a delivery's clock may be (clock skew).
MAX_CLOCK_SKEW = 300

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_EPOCH = re.compile(r"[0-9]{1,11}")


@dataclass
class Delivery:
    topic: str
    dedup_key: str
    payload: bytes
    occurred_at: datetime | None = None
    subject_key: str | None = None
    remote_updated_at: datetime | None = None
    correlation_id: str | None = None
    meta: dict = field(default_factory=dict)
    # set by Verifier.accept for webhooks: sha256 of the raw body (a captured
    # body sent again under another event id is a duplicate), and why the
    # event is parked (stored as skipped, never processed)
    body_digest: str | None = None
    skip_reason: str | None = None

    def json(self):
        return json.loads(self.payload)


def check_envelope(mimetype, content_length, limit):
    """Refuse, before anything reads the body, what cannot be a webhook.

    Odoo parses form bodies (urlencoded, multipart) into parameters before the
    handler runs, and a body without Content-Length (chunked) has no bound.
    """
    if content_length is None:
        raise WebhookRejected(411, "Content-Length required")
    if content_length > limit:
        raise WebhookRejected(413, f"body larger than {limit} bytes")
    if mimetype in FORM_TYPES:
        raise WebhookRejected(415, f"webhook bodies are not forms ({mimetype})")


def hmac_sha256(secret, message):
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def matches_any(expected_for, received, secrets):
    """True when ``received`` equals the signature made with any secret.

    ``expected_for(secret)`` returns the expected signature (str or bytes). Every
    secret is compared, in constant time, so timing tells nothing about which one
    (or whether any) matched.
    """
    if not received:
        return False
    received_b = received.encode() if isinstance(received, str) else received
    ok = False
    for secret in secrets:
        if not secret:
            continue
        expected = expected_for(secret)
        expected_b = expected.encode() if isinstance(expected, str) else expected
        ok |= hmac.compare_digest(expected_b, received_b)
    return ok


def b64_hmac(secret, message):
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def json_too_deep(text, limit=MAX_DEPTH):
    """True when JSON ``text`` nests arrays and objects deeper than ``limit``.

    Linear, without parsing (Python's parser recurses): brackets inside
    strings are text (escaped backslashes and quotes are dropped first, so
    every quote left delimits a string); the others are counted.
    """
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    brackets = _NOT_BRACKET.sub("", "".join(unescaped.split('"')[::2]))
    depths = accumulate(map(_DEPTH_STEP.__getitem__, brackets))
    return max(depths, default=0) > limit


def parse_json(raw, max_depth=MAX_DEPTH):
    """The body as a JSON object: UTF-8, at most ``max_depth`` deep, else 400."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        raise WebhookRejected(400, "body is not UTF-8") from err
    if json_too_deep(text, max_depth):
        raise WebhookRejected(400, f"body nested deeper than {max_depth} levels")
    try:
        data = json.loads(text)
    except RecursionError as err:
        raise WebhookRejected(400, "body nested too deep") from err
    except ValueError as err:
        raise WebhookRejected(400, f"body is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    return data


def parse_timestamp(value, name="timestamp"):
    """A delivery's time: epoch seconds or ISO 8601, as an aware UTC datetime.

    None when the header is absent or empty (``Verifier.timestamp_required``
    decides whether that is allowed); anything else unparseable is a 400:
    a timestamp nobody can read must not skip the replay window.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise WebhookRejected(400, f"{name} is not a time: {type(value).__name__}")
    try:
        if _EPOCH.fullmatch(value):
            return datetime.fromtimestamp(int(value), tz=timezone.utc)
        if len(value) > 40:
            raise ValueError(value)
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError) as err:
        raise WebhookRejected(400, f"{name} is not a time: {value[:40]!r}") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def check_key(name, value, required=False):
    """A value the suite stores as a key: a printable string of bounded length."""
    if value is None or value == "":
        if required:
            raise WebhookRejected(400, f"delivery without {name}")
        return
    if not isinstance(value, str):
        raise WebhookRejected(400, f"{name} is not text")
    if len(value) > MAX_KEY_LENGTH:
        raise WebhookRejected(400, f"{name} longer than {MAX_KEY_LENGTH} characters")
    if _CONTROL.search(value):
        raise WebhookRejected(400, f"{name} holds control characters")


class Verifier:
    """Base class; platforms implement ``verify`` and declare what they send.

    ``timestamp_required``: the platform stamps every delivery, so one without
    a timestamp is refused (it would skip the replay window).
    ``topics``: the webhook topics the platform addon handles; a validly signed
    delivery of another topic is stored parked (skipped, with the reason),
    never processed. None accepts every topic.
    """

    timestamp_required = False
    topics = None

    def __init__(self, secrets):
        self.secrets = [s for s in secrets if s]

    def verify(self, headers, raw_body):  # pragma: no cover - abstract
        raise NotImplementedError

    def accept(self, headers, raw_body, replay_window):
        """Verify the delivery, then make the checks every platform shares."""
        if b"\x00" in raw_body:
            raise WebhookRejected(400, "body holds NUL bytes")
        delivery = self.verify(headers, raw_body)
        check_key("topic", delivery.topic, required=True)
        check_key("event id", delivery.dedup_key, required=True)
        check_key("subject", delivery.subject_key)
        check_key("correlation id", delivery.correlation_id)
        if delivery.occurred_at is None:
            if self.timestamp_required:
                raise WebhookRejected(400, "delivery without a timestamp")
        else:
            check_replay_window(delivery.occurred_at, replay_window)
        delivery.body_digest = hashlib.sha256(raw_body).hexdigest()
        if self.topics is not None and delivery.topic not in self.topics:
            delivery.skip_reason = f"topic {delivery.topic} is not handled"
        return delivery


def check_replay_window(occurred_at, replay_window):
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - occurred_at).total_seconds()
    if age > replay_window:
        raise WebhookRejected(400, f"delivery signed {int(age)}s ago: too old")
    if age < -MAX_CLOCK_SKEW:
        raise WebhookRejected(400, "delivery timestamp is in the future")
