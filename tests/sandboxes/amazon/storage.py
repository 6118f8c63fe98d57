"""The S3 host of feed and report documents: pre-signed URLs.

SP-API never serves document contents itself: ``createFeedDocument`` answers
"The presigned URL for uploading the feed contents. This URL expires after 5
minutes." and ``getFeedDocument`` / ``getReportDocument`` "A presigned URL
for the ... document ... expires after 5 minutes" (``feeds_2021-06-30.json``,
``reports_2021-06-30.json``). The upload is an HTTP PUT of the contents with
the ``Content-Type`` given to ``createFeedDocument``
(https://developer-docs.amazon.com/sp-api/docs/feeds-api-v2021-06-30-use-case-guide,
step 2). A pre-signed URL carries ``X-Amz-Algorithm``, ``X-Amz-Date``,
``X-Amz-Expires``, ``X-Amz-SignedHeaders`` and ``X-Amz-Signature`` in its
query; S3 answers an expired one 403 ``AccessDenied`` "Request has expired",
a wrong signature, another method or another signed content type 403
``SignatureDoesNotMatch``, an unknown key 404 ``NoSuchKey``
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), as
XML ``<Error><Code/><Message/></Error>``.

Served as a companion of the SP-API sandbox (its own port: another host).
Simplification: the signature is an HMAC-SHA256 with a sandbox key over the
method, the signed content type, the date, the lifetime and the key, not
SigV4 over a canonical request: only this sandbox verifies it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..toolkit import BaseSandbox

BUCKET = "tortuga-prod-eu"
URL_LIFETIME = 300


def _xml_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return Response(body, status=status, content_type="application/xml")


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _epoch(stamp: str) -> float:
    moment = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    return moment.replace(tzinfo=timezone.utc).timestamp()


class DocumentStorage(BaseSandbox):
    name = "amazon-documents"
    url_map = Map(
        [Rule("/<bucket>/<path:key>", endpoint="object", methods=["GET", "PUT"])],
        strict_slashes=False,
    )

    def __init__(self, clock, bucket: str = BUCKET):
        self.bucket = bucket
        self._key = secrets.token_bytes(32)
        self._objects_lock = threading.Lock()
        super().__init__(clock=clock)

    def reset_state(self) -> None:
        with self._objects_lock:
            self.objects: dict[str, tuple[bytes, str]] = {}
            # key -> content type a PUT must carry (an upload slot)
            self.slots: dict[str, str] = {}

    # ---------------------------------------------------------- python API
    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._objects_lock:
            self.objects[key] = (data, content_type)

    def get(self, key: str) -> bytes | None:
        with self._objects_lock:
            found = self.objects.get(key)
        return None if found is None else found[0]

    def open_slot(self, key: str, content_type: str) -> None:
        with self._objects_lock:
            self.slots[key] = content_type

    def _signature(self, method, key, stamp, lifetime, content_type) -> str:
        text = f"{method}\n{content_type}\n{stamp}\n{lifetime}\n/{self.bucket}/{key}"
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def presign(self, method: str, key: str, content_type: str = "") -> str:
        """A URL for ``method`` on ``key`` valid 5 minutes from now."""
        stamp = _stamp(self.clock.now())
        signed = "content-type;host" if content_type else "host"
        query = urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Date": stamp,
                "X-Amz-Expires": str(URL_LIFETIME),
                "X-Amz-SignedHeaders": signed,
                "X-Amz-Signature": self._signature(
                    method, key, stamp, URL_LIFETIME, content_type
                ),
            }
        )
        base = self.url or "http://127.0.0.1"
        return f"{base}/{self.bucket}/{quote(key)}?{query}"

    def error_response(self, status, code, message, **extra) -> Response:
        return _xml_error(status, code, message)

    # ----------------------------------------------------------------- route
    def on_object(self, request: Request, bucket: str, key: str) -> Response:
        args = request.args
        stamp = args.get("X-Amz-Date", "")
        lifetime = args.get("X-Amz-Expires", "")
        given = args.get("X-Amz-Signature", "")
        mismatch = _xml_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature "
            "you provided. Check your key and signing method.",
        )
        if bucket != self.bucket or not lifetime.isdigit() or not given:
            return mismatch
        try:
            issued = _epoch(stamp)
        except ValueError:
            return mismatch
        if self.clock.now() > issued + int(lifetime):
            return _xml_error(403, "AccessDenied", "Request has expired")
        signed_type = (
            request.headers.get("Content-Type", "")
            if "content-type" in args.get("X-Amz-SignedHeaders", "")
            else ""
        )
        expected = self._signature(request.method, key, stamp, lifetime, signed_type)
        if not hmac.compare_digest(expected, given):
            return mismatch
        if request.method == "PUT":
            with self._objects_lock:
                if key not in self.slots:
                    return _xml_error(403, "AccessDenied", "Access Denied")
                self.objects[key] = (request.get_data(), signed_type)
            return Response(
                status=200, headers={"ETag": '"' + secrets.token_hex(16) + '"'}
            )
        with self._objects_lock:
            found = self.objects.get(key)
        if found is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        data, content_type = found
        return Response(data, content_type=content_type or "application/octet-stream")
