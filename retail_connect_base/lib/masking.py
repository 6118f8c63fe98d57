"""Remove secrets and personal data from anything we log or show to users.

Everything the exchange log, an error text or an exception message keeps passes
here. Values are judged by the **key** that holds them, never by guessing at the
value, so a payload stays readable for debugging (ids, SKUs, amounts, statuses,
product names) while what identifies a person or opens an account is replaced
by ``***``.

The rule, on a key split into words (``billing_address`` → billing, address;
``AddressLine1`` → address, line, 1; ``browserIp`` → browser, ip):

- **credentials**, masked whatever the value (a string or a whole object): a
  key containing ``secret``, ``token``, ``password``, ``passwd``,
  ``signature``, ``key``, ``authorization``, ``credential``, ``cookie`` or
  ``session``, and the card and bank keys (``card``, ``iban``, ``cvc``…);
- **personal data**, masked whatever the value: a ``note`` (free text a person
  typed) and tax identities (``vat``, ``tax_id``, ``BuyerTaxInfo``);
- **personal data**, masked when the value is a scalar (an object under such a
  key is walked instead, so ``email_marketing_consent.state`` stays): e-mail,
  phone, mobile, fax, address lines (``address1``, ``AddressLine1``,
  ``street``), city, county, zip and postal codes, company, ip, latitude and
  longitude, birth dates, user agents, logins, and person names (``first_name``,
  ``lastName``, ``full_name``, ``BuyerName``, ``shop_owner``,
  ``account_holder_name``…);
- **names in context**: a bare ``name`` (or ``line1``/``line2``) is a person's
  or an address's only inside a *personal object*: one whose key is about a
  person or a place (customer, buyer, billing, shipping, recipient, contact,
  owner, company, destination, or any key with ``address``), at any depth below
  it. So ``billing_address.name`` and ``customer.default_address.name`` are
  masked, while ``line_items[].name``, ``variants[].title`` and an order's
  ``name`` (``#1001``) stay readable.

Free text (an error message, a URL) has no structure to judge: e-mails, phone
numbers, ``Bearer``/``Basic`` credentials and every ``key=value`` or
``"key": value`` pair whose key is sensitive (as above; a bare ``name`` counts,
as the context is unknown) are masked; so are the query values of any URL in it.
"""

import json
import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MASK = "***"

CREDENTIAL_PARTS = (
    "secret",
    "token",
    "password",
    "passwd",
    "signature",
    "key",
    "authorization",
    "credential",
    "cookie",
    "session",
)
CREDENTIAL_WORDS = {"auth", "card", "iban", "cvc", "cvv", "pin", "ssn", "sig", "hmac"}
ALWAYS_PERSONAL = {"note", "notes", "vat"}
PERSONAL_WORDS = {
    "ip",
    "city",
    "county",
    "zip",
    "zipcode",
    "postcode",
    "street",
    "street2",
    "company",
    "latitude",
    "longitude",
    "owner",
    "username",
    "login",
    "dob",
}
PERSONAL_PREFIXES = (
    "email",
    "phone",
    "mobile",
    "fax",
    "postal",
    "birth",
    "address",
)
NAME_QUALIFIERS = {
    "first",
    "last",
    "full",
    "middle",
    "given",
    "family",
    "sur",
    "buyer",
    "customer",
    "holder",
    "recipient",
    "contact",
    "sender",
    "receiver",
    "verified",
    "billing",
    "shipping",
    "business",
}
# a company that is not a person's: the carrier of a parcel, a card's network
NOT_PERSONAL_COMPANY = {"tracking", "carrier", "card"}
JOINED_NAMES = {
    "firstname",
    "lastname",
    "fullname",
    "surname",
    "givenname",
    "familyname",
    "middlename",
    "buyername",
    "nickname",
    "displayname",
}
CONTEXT_WORDS = {
    "customer",
    "customers",
    "buyer",
    "billing",
    "shipping",
    "recipient",
    "contact",
    "owner",
    "company",
    "destination",
    "address",
    "addresses",
    "person",
    "individual",
    "cardholder",
}
# what an object says it is (Stripe's ``"object": "customer"``)
PERSONAL_OBJECTS = {"customer", "person", "cardholder", "account_holder"}
CONTEXT_MASKED = {"name", "line1", "line2", "line3"}

_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# "+49 151 1234 5678", "555-625-1199", "(555) 625-1199"; not an id (no
# separator) nor an ISO date
PHONE_RE = re.compile(
    r"(?<![\w/.:+-])(?!\d{4}-\d\d-\d\d)"
    r"(?:\+\d[\d \-()]{6,}\d|\(?\d{2,5}\)?[ \-]\d[\d \-]{4,}\d)(?![\w/.:-])"
)
SCHEME_RE = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s\"',;]+")
URL_RE = re.compile(r"https?://[^\s\"'<>]+")
# "key": value / 'key': value / key=value (a query string, a form, a repr)
PAIR_RE = re.compile(
    r"""(?P<q>["']?)(?P<key>[A-Za-z_][\w.\-\[\]]*)(?P=q)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&{}\[\]()"']+)"""
)


def _words(key):
    return [w.lower() for w in _WORD_RE.findall(str(key))]


def _joined(key):
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def is_context(key):
    """Whether the object under ``key`` is about a person or a place."""
    words = set(_words(key))
    return bool(words & CONTEXT_WORDS)


def _leaf(key):
    """A form key ``shipping[address][line1]``: its parents and its leaf."""
    parts = [p for p in re.split(r"[\[\]]+", str(key)) if p]
    if len(parts) > 1:
        return parts[-1], any(is_context(p) for p in parts[:-1])
    return key, False


def classify(key, in_context=False):
    """``"any"`` (mask whatever the value), ``"scalar"``, or None (keep)."""
    key, form_context = _leaf(key)
    in_context = in_context or form_context
    joined = _joined(key)
    words = _words(key)
    wordset = set(words)
    if any(part in joined for part in CREDENTIAL_PARTS) or wordset & CREDENTIAL_WORDS:
        return "any"
    if wordset & ALWAYS_PERSONAL or "taxid" in joined or "taxinfo" in joined:
        return "any"
    if "company" in wordset and wordset & NOT_PERSONAL_COMPANY:
        return None
    if wordset & PERSONAL_WORDS or any(w.startswith(PERSONAL_PREFIXES) for w in words):
        return "scalar"
    if "useragent" in joined:
        return "scalar"
    if joined in JOINED_NAMES or (
        words[-1:] == ["name"] and len(words) > 1 and words[-2] in NAME_QUALIFIERS
    ):
        return "scalar"
    if in_context and (joined in CONTEXT_MASKED or words[-1:] == ["name"]):
        return "scalar"
    return None


def mask_data(value, in_context=False):
    """Return a copy of a JSON-like structure with sensitive values masked."""
    if isinstance(value, dict):
        kind = value.get("object")
        in_context = in_context or (isinstance(kind, str) and kind in PERSONAL_OBJECTS)
        out = {}
        for key, item in value.items():
            verdict = classify(key, in_context)
            container = isinstance(item, dict | list)
            if item in (None, "") or isinstance(item, bool) or (container and not item):
                out[key] = item
            elif verdict == "any" or (verdict == "scalar" and not container):
                out[key] = MASK
            else:
                out[key] = mask_data(item, in_context or is_context(key))
        return out
    if isinstance(value, list):
        return [mask_data(item, in_context) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def _sensitive(key):
    return classify(key, in_context=True) is not None


def mask_url(url):
    """A URL with the value of every sensitive query key masked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return mask_text(url)
    if not pairs:
        return _mask_free_text(url)
    query = "&".join(
        f"{quote(key, safe='[]')}="
        + (MASK if _sensitive(key) else quote(value, safe=":/,*@"))
        for key, value in pairs
    )
    return _mask_free_text(urlunsplit(parts._replace(query=query)))


def _mask_pair(match):
    if not _sensitive(match["key"]):
        # a harmless key may hold pairs (``url: /x?Signature=...``)
        head = match[0][: match.start("value") - match.start()]
        return head + PAIR_RE.sub(_mask_pair, match["value"])
    value = match["value"]
    quote_char = value[0] if value[:1] in ("'", '"') else ""
    return (
        f"{match['q']}{match['key']}{match['q']}{match['sep']}"
        f"{quote_char}{MASK}{quote_char}"
    )


def _mask_free_text(text):
    text = SCHEME_RE.sub(r"\1\2" + MASK, text)
    text = PAIR_RE.sub(_mask_pair, text)
    text = EMAIL_RE.sub(MASK, text)
    return PHONE_RE.sub(MASK, text)


def mask_text(text):
    """Mask e-mails, phones, credentials and sensitive ``key=value`` pairs."""
    if not text:
        return text
    text = URL_RE.sub(lambda m: mask_url(m[0]), str(text))
    return _mask_free_text(text)


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
    return {
        key: MASK if classify(key) and value not in (None, "") else value
        for key, value in (pairs or {}).items()
    }
