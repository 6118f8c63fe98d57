{
    "name": "Retail Connect – 3PL",
    "summary": "Send deliveries to a third-party logistics warehouse, track them",
    "version": "18.0.1.0.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "stock", "sale_stock"],
    "external_dependencies": {"python": ["requests"]},
}
