{
    "name": "Retail Connect – Flash Sale Scenario",
    "summary": "Test-only: the flash sale end to end, every platform addon at once",
    "version": "18.0.1.0.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Hidden/Tests",
    # the scenario wires the four platforms together: it needs them all
    "depends": [
        "retail_connect_shopify",
        "retail_connect_stripe",
        "retail_connect_amazon",
        "retail_connect_3pl",
    ],
    "external_dependencies": {"python": ["requests"]},
}
