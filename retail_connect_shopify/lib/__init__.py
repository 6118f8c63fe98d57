"""Odoo-free Shopify pieces: the GraphQL client, the webhook verifier, the
GraphQL documents the connector sends, and the mappers from payloads to values."""
