{
    "name": "Retail Connect – Shopify",
    "summary": "Synchronise a Shopify store: products, stock, orders, customers",
    "version": "18.0.1.0.0",
    "author": "retail_connect contributors",
    "website": "https://github.com/retail-connect/retail_connect",
    "license": "LGPL-3",
    "category": "Connector",
    "depends": ["retail_connect_base", "sale_stock", "account"],
    "external_dependencies": {"python": ["requests"]},
}
