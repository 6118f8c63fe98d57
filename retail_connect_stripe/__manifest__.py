{
    "name": "Retail Connect – Stripe",
    "summary": "Reconcile Stripe payments, refunds and payouts with Odoo accounting",
    "version": "18.0.1.1.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "account", "payment", "sale"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/stripe_security.xml",
        "views/stripe_dispute_views.xml",
        "views/retail_backend_views.xml",
        "views/stripe_payout_views.xml",
        "wizards/stripe_assign_payment_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "retail_connect_stripe/static/tests/tours/*.js",
        ],
    },
}
