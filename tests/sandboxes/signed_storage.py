"""Signed-URL object storage: the host that serves a platform's download files.

Shopify does not serve a bulk operation's result from the shop's API host: the
``url`` of a completed ``BulkOperation`` is a signed URL on Google Cloud
Storage, valid seven days, e.g. ``https://storage.googleapis.com/
shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/<id>-final?
GoogleAccessId=...&Expires=...&Signature=...``
(https://shopify.dev/docs/api/usage/bulk-operations/queries, "Download result
data"; https://shopify.dev/docs/api/admin-graphql/latest/objects/BulkOperation:
"url and partialDataUrl values expire after seven days").

A signed URL carries its authentication in the query string: anyone holding it
may GET the object, without any other credential
(https://cloud.google.com/storage/docs/access-control/signed-urls). The V2 form
has ``GoogleAccessId``, ``Expires`` (epoch seconds) and ``Signature``
(https://cloud.google.com/storage/docs/access-control/signed-urls-v2: "The
server rejects any requests received after this timestamp").

``SignedUrlStorage(bucket, clock=...)``: ``put(name, data, content_type)``
stores an object, ``signed_url(name, expires)`` signs a GET for it. Served
(as a companion of the platform's sandbox, on its own port, i.e. another
host), it answers ``GET /<bucket>/<name>?GoogleAccessId&Expires&Signature``:

- the object, with its content type;
- expired (the sandbox clock is past ``Expires``): 400 ``ExpiredToken``
  (observed answer: fog/fog-google#264, ``<Code>ExpiredToken</Code><Message>
  The provided token has expired.</Message>``);
- missing or wrong signature: 403 ``SignatureDoesNotMatch`` ("The request
  signature we calculated does not match the signature you provided",
  googleapis/nodejs-storage#244);
- unknown object: 404 ``NoSuchKey``.

Errors are Cloud Storage's XML ``<Error><Code/><Message/></Error>``. Every
request is recorded with its headers (``requests()``), so a test can assert
which credentials reached the storage host.

Simplification: the signature is an HMAC-SHA256 with a sandbox key over the V2
string to sign (``GET\\n\\n\\n<Expires>\\n/<bucket>/<name>``), not an RSA
signature by a service account: only this sandbox verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from urllib.parse import quote, urlencode

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .toolkit import BaseSandbox, Clock

ACCESS_ID = "assets-us-prod@shopify-tiers.iam.gserviceaccount.com"


def _xml_error(status: int, code: str, message: str, details: str = "") -> Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        + (f"<Details>{details}</Details>" if details else "")
        + "</Error>"
    )
    return Response(body, status=status, content_type="application/xml")


class SignedUrlStorage(BaseSandbox):
    """A Cloud Storage bucket serving objects through V2 signed URLs."""

    name = "signed-storage"
    url_map = Map(
        [Rule("/<bucket>/<path:name>", endpoint="object", methods=["GET"])],
        strict_slashes=False,
    )

    def __init__(
        self,
        bucket: str = "shopify-tiers-assets-prod-us-east1",
        *,
        clock: Clock | None = None,
    ):
        self.bucket = bucket
        self._key = secrets.token_bytes(32)
        self._objects_lock = threading.Lock()
        super().__init__(clock=clock)

    def reset_state(self) -> None:
        with self._objects_lock:
            self.objects: dict[str, tuple[bytes, str]] = {}

    # ---------------------------------------------------------- python API
    def put(self, name: str, data: bytes, content_type: str) -> None:
        with self._objects_lock:
            self.objects[name] = (data, content_type)

    def _signature(self, name: str, expires: int) -> str:
        to_sign = f"GET\n\n\n{expires}\n/{self.bucket}/{name}"
        digest = hmac.new(self._key, to_sign.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def signed_url(self, name: str, expires: int) -> str:
        """A GET URL for ``name`` valid until ``expires`` (epoch seconds)."""
        query = urlencode(
            {
                "GoogleAccessId": ACCESS_ID,
                "Expires": str(expires),
                "Signature": self._signature(name, expires),
            }
        )
        base = self.url or "http://127.0.0.1"
        return f"{base}/{self.bucket}/{quote(name)}?{query}"

    def error_response(
        self, status: int, code: str, message: str, **extra: object
    ) -> Response:
        return _xml_error(status, code, message)

    # ----------------------------------------------------------------- route
    def on_object(self, request: Request, bucket: str, name: str) -> Response:
        expires = request.args.get("Expires", "")
        given = request.args.get("Signature", "")
        if bucket != self.bucket or not expires.isdigit() or not given:
            return _xml_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the "
                "signature you provided.",
            )
        if self.clock.now() > int(expires):
            return _xml_error(
                400,
                "ExpiredToken",
                "The provided token has expired.",
                f"Request signature expired at: {expires}",
            )
        expected = self._signature(name, int(expires))
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return _xml_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the "
                "signature you provided.",
            )
        with self._objects_lock:
            found = self.objects.get(name)
        if found is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        data, content_type = found
        return Response(data, content_type=content_type)
