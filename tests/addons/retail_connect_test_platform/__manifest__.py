{
    "name": "Retail Connect – Test Platform",
    "summary": "Test-only backend type (TestShop) exercising the framework end to end",
    "version": "18.0.1.0.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Hidden/Tests",
    "depends": ["retail_connect_base"],
    "external_dependencies": {"python": ["requests"]},
}
