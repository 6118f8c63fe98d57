"""The exception vocabulary of retail_connect.

Platform code raises these; the base turns them into job retries, skipped events
or sync exceptions. Nothing here imports Odoo.
"""

CATEGORIES = (
    "validation",
    "mapping",
    "conflict",
    "auth",
    "throttle",
    "remote",
    "internal",
    "drift",  # the platform's contract changed (models/retail_contract.py)
)


class SyncError(Exception):
    """A failure a person must look at: opens (or bumps) a sync exception.

    ``subject_key`` names the remote object concerned (``order:1001``); a later
    success on the same subject auto-resolves the exception. ``fix`` is an optional
    dict a platform addon reads to offer a specific fix (e.g. the unknown SKU).
    """

    category = "internal"

    def __init__(self, message, *, category=None, subject_key=None, fix=None):
        super().__init__(message)
        self.message = message
        if category:
            self.category = category
        self.subject_key = subject_key
        self.fix = fix or {}


class ValidationSyncError(SyncError):
    category = "validation"


class MappingError(SyncError):
    category = "mapping"


class ConflictError(SyncError):
    category = "conflict"


class AuthError(SyncError):
    category = "auth"


class ForeignHostError(SyncError):
    """A call with the backend's credentials aimed at another host: refused.

    Only the backend's own API host gets its token; a file on a storage host
    (a signed URL) is fetched with ``anonymous=True``.
    """

    category = "internal"


class RemoteError(SyncError):
    """The platform refused the request for a reason retrying will not fix."""

    category = "remote"

    def __init__(self, message, *, status=None, code=None, **kw):
        super().__init__(message, **kw)
        self.status = status
        self.code = code


class TransientError(Exception):
    """Worth retrying later: timeouts, 5xx, lock contention.

    ``seconds`` is the delay to wait, as the platform asked when it said so.
    """

    category = "remote"

    def __init__(self, message, *, seconds=None):
        super().__init__(message)
        self.message = message
        self.seconds = seconds


class ThrottledError(TransientError):
    """The platform (or our own limiter) asked us to slow down."""

    category = "throttle"


class ShadowWrite(Exception):  # noqa: N818 - a stop, not an error
    """A write a backend in shadow mode did not send: it was recorded instead.

    Raised by the client in place of the request (``request`` is the
    ``ShadowRequest`` that would have gone out). Not a ``SyncError``: a flow
    that sets a failed record aside must not take it for one; the base's
    runners stop there and roll back what the flow did.
    """

    def __init__(self, request):
        super().__init__(
            f"shadow mode: {request.operation} ({request.method} {request.url}) "
            "was recorded, not sent"
        )
        self.request = request


class EventSkipped(Exception):
    """Raised by an event handler to say the event must not be applied.

    ``state`` is one of ``skipped_stale``, ``skipped_policy``, ``skipped_duplicate``.
    """

    def __init__(self, state, reason):
        super().__init__(reason)
        self.state = state
        self.reason = reason


class WebhookRejected(Exception):
    """A delivery refused at the door: nothing is stored, the sender gets 4xx."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SecretKeyMissing(Exception):
    """No encryption key is configured: secrets cannot be read or written."""
