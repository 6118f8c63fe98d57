"""Secrets at rest: Fernet tokens, keys from the server configuration.

The key never lives in the database. It comes from the Odoo configuration option
``retail_connect_key`` or the environment variable ``RETAIL_CONNECT_KEY``: one or
more comma-separated Fernet keys, the first one used to encrypt, every one tried to
decrypt (so a key can be rotated: put the new key first, run "Re-encrypt secrets",
then drop the old one).
"""

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import SecretKeyMissing

ENV_VAR = "RETAIL_CONNECT_KEY"
CONFIG_KEY = "retail_connect_key"


def keys_from(config_value=None, environ=None):
    environ = os.environ if environ is None else environ
    raw = config_value or environ.get(ENV_VAR) or ""
    return [k.strip() for k in str(raw).split(",") if k.strip()]


def make_cipher(keys):
    if not keys:
        raise SecretKeyMissing(
            "No encryption key for retail_connect secrets: set "
            f"'{CONFIG_KEY}' in the Odoo server configuration or the "
            f"{ENV_VAR} environment variable (a Fernet key; generate one with "
            "`python3 -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        )
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as err:
        raise SecretKeyMissing(
            f"The configured {CONFIG_KEY} is not a valid Fernet key: {err}"
        ) from err


def encrypt(cipher, plaintext):
    return cipher.encrypt(plaintext.encode()).decode()


def decrypt(cipher, token):
    try:
        return cipher.decrypt(token.encode()).decode()
    except InvalidToken as err:
        raise SecretKeyMissing(
            "A stored secret cannot be decrypted with the configured keys: was "
            f"{CONFIG_KEY} changed without keeping the old key after the new one?"
        ) from err


def rotate(cipher, token):
    """Re-encrypt a token with the primary key."""
    return cipher.rotate(token.encode()).decode()
