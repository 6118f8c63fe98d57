import hmac
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..lib.errors import SecretKeyMissing, WebhookRejected
from ..lib.masking import mask_text
from ..lib.webhook import DEFAULT_MAX_BYTES, MAX_BODY_BYTES
from ..models.retail_event import read_committed

# every authentication failure (no such backend, a draft one, no or a wrong
# signature, another shop) gets this same answer; the log says which
UNAUTHENTICATED = "invalid signature"

_logger = logging.getLogger(__name__)


class RetailConnectController(http.Controller):
    """Webhook ingress for every platform, and the metrics endpoint.

    The request only verifies and stores; the dispatcher job gives the stored
    events their queue jobs in batches (retail.event._ingest) and the business
    work happens in those. Anything refused gets a 4xx and stores nothing.
    """

    @http.route(
        "/retail_connect/webhook/<int:backend_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,  # auth="none" routes default to a read-only cursor
        max_content_length=MAX_BODY_BYTES,
        # ir.http refuses, before Odoo parses or reads the body, a body without
        # Content-Length, larger than max_content_length, or a form
        retail_connect_raw_body=True,
    )
    def webhook(self, backend_id, **_kw):
        env = request.env(user=SUPERUSER_ID)
        # before the first query: the dispatcher check of _ingest needs it
        read_committed(env)
        # the fields the request reads, cached per worker (no query)
        backend = env["retail.backend"]._webhook_backend(backend_id)
        if backend.state == "draft":
            backend = backend.browse()
        try:
            raw = self._read_body(
                backend.webhook_max_bytes if backend else DEFAULT_MAX_BYTES
            )
            verifier = backend._get_webhook_verifier() if backend else None
            if not verifier:
                # answered as a bad signature: ids are not enumerable
                raise WebhookRejected(401, "unknown or draft backend")
            delivery = verifier.accept(
                request.httprequest.headers, raw, backend.webhook_replay_window
            )
        except WebhookRejected as err:
            _logger.warning(
                "retail_connect: webhook refused for backend %s from %s: %s",
                backend_id,
                request.httprequest.remote_addr,
                mask_text(err.reason),
            )
            if err.status == 401:
                return self._answer(401, UNAUTHENTICATED)
            return self._answer(err.status, err.reason)
        except SecretKeyMissing as err:
            _logger.error("retail_connect: %s", err)
            return self._answer(503, "secrets unavailable")
        _event, created = env["retail.event"]._ingest(
            backend, delivery, "webhook", deferred=True
        )
        if not created:
            return self._answer(200, "duplicate")
        return self._answer(200, "parked" if delivery.skip_reason else "stored")

    def _read_body(self, limit):
        httprequest = request.httprequest
        limit = min(limit, MAX_BODY_BYTES)
        length = httprequest.content_length
        if length is None:
            raise WebhookRejected(411, "Content-Length required")
        if length > limit:
            raise WebhookRejected(413, f"body larger than {limit} bytes")
        raw = httprequest.get_data(cache=True)  # bounded by Content-Length
        if len(raw) > limit:
            raise WebhookRejected(413, f"body larger than {limit} bytes")
        if not raw:
            raise WebhookRejected(400, "empty body")
        return raw

    def _answer(self, status, text):
        return request.make_response(
            text, headers=[("Content-Type", "text/plain")], status=status
        )

    @http.route(
        "/retail_connect/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def metrics(self, **_kw):
        env = request.env(user=SUPERUSER_ID)
        token = env["ir.config_parameter"].get_param("retail_connect.metrics_token")
        given = request.httprequest.headers.get("Authorization", "")
        expected = f"Bearer {token}" if token else ""
        if not token or not hmac.compare_digest(given.encode(), expected.encode()):
            return self._answer(401, "metrics token required")
        body = env["retail.backend"]._prometheus_metrics()
        return request.make_response(
            body, headers=[("Content-Type", "text/plain; version=0.0.4")]
        )
