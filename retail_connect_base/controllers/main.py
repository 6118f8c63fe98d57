import hmac
import logging
from datetime import datetime, timezone

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..lib.errors import SecretKeyMissing, WebhookRejected
from ..lib.masking import mask_text

_logger = logging.getLogger(__name__)


class RetailConnectController(http.Controller):
    """Webhook ingress for every platform, and the metrics endpoint.

    The request only verifies, stores and enqueues; the business work happens in
    the event's queue job. Anything refused gets a 4xx and stores nothing.
    """

    @http.route(
        "/retail_connect/webhook/<int:backend_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,  # auth="none" routes default to a read-only cursor
    )
    def webhook(self, backend_id, **_kw):
        env = request.env(user=SUPERUSER_ID)
        backend = env["retail.backend"].browse(backend_id).exists()
        if not backend or backend.state == "draft":
            return self._answer(404, "unknown backend")
        try:
            raw = self._read_body(backend)
            verifier = backend._get_webhook_verifier()
            delivery = verifier.verify(request.httprequest.headers, raw)
            self._check_replay_window(backend, delivery)
        except WebhookRejected as err:
            _logger.warning(
                "retail_connect: webhook refused for backend %s from %s: %s",
                backend_id,
                request.httprequest.remote_addr,
                mask_text(err.reason),
            )
            return self._answer(err.status, err.reason)
        except SecretKeyMissing as err:
            _logger.error("retail_connect: %s", err)
            return self._answer(503, "secrets unavailable")
        _event, created = env["retail.event"]._ingest(backend, delivery, "webhook")
        return self._answer(200, "stored" if created else "duplicate")

    def _read_body(self, backend):
        httprequest = request.httprequest
        limit = backend.webhook_max_bytes
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

    def _check_replay_window(self, backend, delivery):
        if not delivery.occurred_at:
            return
        occurred = delivery.occurred_at
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=timezone.utc)
        age = (datetime.now(timezone.utc) - occurred).total_seconds()
        if age > backend.webhook_replay_window:
            raise WebhookRejected(400, f"delivery signed {int(age)}s ago: too old")
        if age < -300:
            raise WebhookRejected(400, "delivery timestamp is in the future")

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
