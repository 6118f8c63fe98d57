"""Odoo-free building blocks of the framework: read and test them without the ORM.

- ``errors``: the exception vocabulary shared by clients, verifiers and jobs;
- ``secrets``: Fernet encryption of credentials with a key kept outside the database;
- ``masking``: secrets and personal data removed from anything logged;
- ``throttle``: the token-bucket arithmetic behind the per-backend limiter;
- ``http``: the HTTP client every platform uses (timeouts, retry signals, logging);
- ``webhook``: the verifier contract and constant-time signature helpers.
"""
