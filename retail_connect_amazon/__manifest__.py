{
    "name": "Retail Connect – Amazon",
    "summary": "Synchronise Amazon Seller Central listings, stock and orders with Odoo",
    "version": "18.0.1.0.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "sale_stock", "account"],
    "external_dependencies": {"python": ["requests"]},
}
