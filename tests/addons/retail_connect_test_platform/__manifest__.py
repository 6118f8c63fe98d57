{
    "name": "Retail Connect – Test Platform",
    "summary": "Test-only backend type (TestShop) exercising the framework end to end",
    "version": "18.0.1.0.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Hidden/Tests",
    # payment_stripe: Odoo's own Stripe provider, which the Stripe connector
    # must link to rather than book a payment twice (its tests)
    "depends": ["retail_connect_base", "payment_stripe"],
    "external_dependencies": {"python": ["requests"]},
}
