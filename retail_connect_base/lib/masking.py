"""Remove secrets and personal data from anything we log or show to users.

Keys are matched case-insensitively on their name; values of sensitive keys are
replaced, everything else is kept so an exchange stays readable for debugging.
"""

import json
import re

MASK = "***"
SECRET_KEYS = {
    "authorization",
    "x-shopify-access-token",
    "x-amz-access-token",
    "access_token",
    "refresh_token",
    "client_secret",
    "api_key",
    "password",
    "secret",
    "token",
    "stripe-signature",
    "x-shopify-hmac-sha256",
    "card",
    "iban",
}
PERSONAL_KEYS = {
    "email",
    "phone",
    "phone_number",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "name",
    "buyername",
    "buyeremail",
    "address1",
    "address2",
    "addressline1",
    "addressline2",
    "addressline3",
    "street",
    "street2",
    "zip",
    "postalcode",
    "birthdate",
    "vat",
}
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE_RE = re.compile(r"\+?\d[\d \-()]{7,}\d")
BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"']+")


def _sensitive(key):
    k = str(key).lower().replace("-", "_")
    return k in SECRET_KEYS or k in PERSONAL_KEYS or k.replace("_", "-") in SECRET_KEYS


def mask_data(value):
    """Return a copy of a JSON-like structure with sensitive values masked."""
    if isinstance(value, dict):
        return {
            k: (MASK if _sensitive(k) and v not in (None, "") else mask_data(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text):
    """Mask e-mails, phone numbers and bearer tokens in free text."""
    if not text:
        return text
    text = BEARER_RE.sub(r"\1" + MASK, text)
    text = EMAIL_RE.sub(MASK, text)
    return PHONE_RE.sub(MASK, text)


def mask_headers(headers):
    return {k: (MASK if _sensitive(k) else v) for k, v in (headers or {}).items()}


def mask_body(body, limit=20000):
    """Mask a request/response body given as bytes, str or JSON-like data."""
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            data = json.loads(body)
        except ValueError:
            return mask_text(body)[:limit]
    else:
        data = body
    return json.dumps(mask_data(data), default=str, ensure_ascii=False)[:limit]


def mask_form(pairs):
    """Mask a form body given as a dict (Stripe-style ``a[b]=c`` keys)."""
    out = {}
    for key, value in (pairs or {}).items():
        leaf = re.split(r"[\[\]]", key.rstrip("]"))[-1]
        out[key] = MASK if _sensitive(leaf) else value
    return out
