"""Locations, customers, products and variants: seeding, REST payloads, GraphQL views,
queries and mutations."""

from __future__ import annotations

import copy
import re
from typing import Any

from .schema import (
    COUNTRIES,
    _error,
    _slug,
    _user_error,
    fmt,
    gid_number,
    gql_time,
    money,
)


class ShopifyCatalogMixin:
    """Locations, customers, products and variants: seeding, REST payloads, GraphQL
    views, queries and mutations."""

    # ------------------------------------------------------------ seeding
    def add_location(self, name: str, *, active: bool = True) -> dict:
        """Create a location; return ``{"id", "name", ...}``."""
        with self.lock:
            ms = self._now_ms()
            location = {
                "id": self._next("Location"),
                "name": name,
                "isActive": active,
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.locations[location["id"]] = location
            return dict(location)

    def _address(self, data: dict | None) -> dict | None:
        """A MailingAddress record from GraphQL field names (REST-style
        ``first_name``, ``province_code``, ``country_code``/``countryCode``
        are accepted too)."""
        if not data:
            return None
        keys = (
            "firstName lastName company address1 address2 city province "
            "provinceCode zip countryCodeV2 phone"
        ).split()
        aliases = {
            "first_name": "firstName",
            "last_name": "lastName",
            "province_code": "provinceCode",
            "country_code": "countryCodeV2",
            "countryCode": "countryCodeV2",
        }
        data = {aliases.get(key, key): value for key, value in data.items()}
        unknown = set(data) - set(keys) - {"id", "name", "country"}
        if unknown:
            raise ValueError(f"unknown address fields {sorted(unknown)}")
        if data.get("countryCodeV2") and data["countryCodeV2"] not in COUNTRIES:
            raise ValueError(f"country code must be one of {sorted(COUNTRIES)}")
        address = {key: data.get(key) for key in keys}
        address["id"] = data.get("id") or self._next("MailingAddress")
        return address

    def add_customer(
        self,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
        *,
        tags: list[str] | tuple = (),
        note: str | None = None,
        address: dict | None = None,
        emit: bool = False,
    ) -> dict:
        """Create a customer (``address`` with GraphQL field names)."""
        with self.lock:
            ms = self._now_ms()
            customer = {
                "id": self._next("Customer"),
                "email": email,
                "firstName": first_name,
                "lastName": last_name,
                "phone": phone,
                "tags": list(tags),
                "note": note,
                "addresses": [a for a in [self._address(address)] if a],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.customers[customer["id"]] = customer
            snapshot = copy.deepcopy(customer)
        if emit:
            self.emit("customers/create", customer["id"])
        return snapshot

    def update_customer(self, customer_id: str, *, emit: bool = False, **fields):
        """Update ``email``, ``first_name``, ``last_name``, ``phone``, ``tags``,
        ``note`` or ``address``; bumps ``updatedAt``."""
        names = {"first_name": "firstName", "last_name": "lastName"}
        with self.lock:
            customer = self._get(self.customers, customer_id, "customer")
            for key, value in fields.items():
                if key == "address":
                    customer["addresses"] = [self._address(value)] if value else []
                elif key in ("email", "phone", "tags", "note", *names):
                    customer[names.get(key, key)] = value
                else:
                    raise ValueError(f"unknown customer field {key!r}")
            self._touch(customer)
            snapshot = copy.deepcopy(customer)
        if emit:
            self.emit("customers/update", customer_id)
        return snapshot

    def add_product(
        self,
        title: str,
        variants: list[dict] | None = None,
        *,
        vendor: str = "",
        product_type: str = "",
        tags: list[str] | tuple = (),
        status: str = "ACTIVE",
        handle: str | None = None,
        description_html: str = "",
        emit: bool = False,
    ) -> dict:
        """Create a product and its variants (with inventory items).

        A variant is ``{"sku", "price", "barcode", "compare_at_price",
        "options": {name: value}, "inventory": {location_gid: available},
        "tracked"}``; without ``inventory`` it is stocked (0) at every
        location. Return the product record with ``variants`` as records.
        """
        variants = variants or [{}]
        with self.lock:
            ms = self._now_ms()
            product = {
                "id": self._next("Product"),
                "title": title,
                "handle": self._unique_handle(handle or _slug(title)),
                "status": status,
                "vendor": vendor,
                "productType": product_type,
                "descriptionHtml": description_html,
                "tags": list(tags),
                "options": [],
                "variants": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.products[product["id"]] = product
            for spec in variants:
                options = spec.get("options") or {}
                if not options:
                    default = "Default Title" if len(variants) == 1 else None
                    options = {"Title": default or spec.get("sku") or "Variant"}
                variant = self._new_variant(
                    product,
                    options=list(options.items()),
                    sku=spec.get("sku"),
                    price=spec.get("price", "0.00"),
                    barcode=spec.get("barcode"),
                    compare_at_price=spec.get("compare_at_price"),
                    tracked=spec.get("tracked", True),
                )
                inventory = spec.get("inventory")
                if inventory is None:
                    inventory = dict.fromkeys(self.locations, 0)
                for location_id, quantity in inventory.items():
                    self._get(self.locations, location_id, "location")
                    self._level(variant["inventoryItemId"], location_id, create=True)[
                        "available"
                    ] = int(quantity)
            self._sync_options(product)
            result = self._product_snapshot(product)
        if emit:
            self.emit("products/create", product["id"])
        return result

    def _product_snapshot(self, product: dict) -> dict:
        result = copy.deepcopy(product)
        result["variants"] = [
            copy.deepcopy(self.variants[v]) for v in product["variants"]
        ]
        return result

    def _unique_handle(self, handle: str, product_id: str | None = None) -> str:
        taken = {p["handle"] for p in self.products.values() if p["id"] != product_id}
        candidate, index = handle, 0
        while candidate in taken:
            index += 1
            candidate = f"{handle}-{index}"
        return candidate

    def _new_variant(
        self,
        product: dict,
        *,
        options,
        sku,
        price,
        barcode=None,
        compare_at_price=None,
        tracked=True,
    ) -> dict:
        ms = self._now_ms()
        variant = {
            "id": self._next("ProductVariant"),
            "productId": product["id"],
            "options": [(str(name), str(value)) for name, value in options],
            "sku": sku,
            "barcode": barcode,
            "price": money(price),
            "compareAtPrice": None
            if compare_at_price is None
            else money(compare_at_price),
            "position": len(product["variants"]) + 1,
            "createdAt": ms,
            "updatedAt": ms,
        }
        item = {
            "id": self._next("InventoryItem"),
            "variantId": variant["id"],
            "tracked": tracked,
            "createdAt": ms,
            "updatedAt": ms,
        }
        variant["inventoryItemId"] = item["id"]
        self.items[item["id"]] = item
        self.variants[variant["id"]] = variant
        product["variants"].append(variant["id"])
        return variant

    def delete_variant(self, variant_id: str) -> None:
        """Delete a variant as a merchant does in the admin: its inventory item
        and levels go with it (later writes on the item: INVALID_INVENTORY_ITEM).
        """
        with self.lock:
            variant = self._get(self.variants, variant_id, "variant")
            self._delete_variant(variant_id)
            self._touch(self.products[variant["productId"]])

    def _delete_variant(self, variant_id: str) -> None:
        variant = self.variants.pop(variant_id)
        self.items.pop(variant["inventoryItemId"], None)
        for key in [k for k in self.levels if k[0] == variant["inventoryItemId"]]:
            del self.levels[key]
        product = self.products[variant["productId"]]
        product["variants"].remove(variant_id)

    def _sync_options(self, product: dict, declared: list | None = None) -> None:
        """Product options from the variants' values (in ``declared`` order)."""
        order: dict[str, list[str]] = {}
        for name, values in declared or ():
            order.setdefault(name, [])
            for value in values:
                if value not in order[name]:
                    order[name].append(value)
        for variant_id in product["variants"]:
            for name, value in self.variants[variant_id]["options"]:
                values = order.setdefault(name, [])
                if value not in values:
                    values.append(value)
        existing = {option["name"]: option for option in product["options"]}
        options = []
        for name, values in order.items():
            old = existing.get(name) or {"id": self._next("ProductOption")}
            known = old.get("valueIds", {})
            value_ids = {
                value: known.get(value) or self._next("ProductOptionValue")
                for value in values
            }
            options.append(
                {"id": old["id"], "name": name, "values": values, "valueIds": value_ids}
            )
        product["options"] = options

    def variant_by_sku(self, sku: str) -> dict:
        """The variant record with this SKU (KeyError if none)."""
        with self.lock:
            for variant in self.variants.values():
                if variant["sku"] == sku:
                    return copy.deepcopy(variant)
        raise KeyError(f"no variant with SKU {sku!r}")

    @staticmethod
    def _rest_address(address: dict | None, **extra: Any) -> dict | None:
        if not address:
            return None
        names = [address.get("firstName"), address.get("lastName")]
        code = address.get("countryCodeV2")
        return {
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "name": " ".join(n for n in names if n) or None,
            "company": address.get("company"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("province"),
            "province_code": address.get("provinceCode"),
            "zip": address.get("zip"),
            "country": COUNTRIES.get(code, code),
            "country_code": code,
            "phone": address.get("phone"),
            **extra,
        }

    def rest_customer(self, customer_id: str) -> dict:
        customer = self.customers[customer_id]
        addresses = [
            self._rest_address(
                address,
                id=gid_number(address["id"]),
                customer_id=gid_number(customer_id),
                country_name=COUNTRIES.get(address.get("countryCodeV2")),
                default=index == 0,
            )
            for index, address in enumerate(customer["addresses"])
        ]
        return {
            "id": gid_number(customer_id),
            "admin_graphql_api_id": customer_id,
            "email": customer["email"],
            "first_name": customer["firstName"],
            "last_name": customer["lastName"],
            "phone": customer["phone"],
            "created_at": self._rest_time(customer["createdAt"]),
            "updated_at": self._rest_time(customer["updatedAt"]),
            "state": "disabled",
            "note": customer["note"],
            "tags": ", ".join(customer["tags"]),
            "verified_email": True,
            "tax_exempt": False,
            "addresses": addresses,
            "default_address": addresses[0] if addresses else None,
        }

    def rest_product(self, product_id: str) -> dict:
        product = self.products[product_id]
        number = gid_number(product_id)
        options = [name for name, _ in self._option_names(product)]
        variants = []
        for variant_id in product["variants"]:
            variant = self.variants[variant_id]
            values = dict(variant["options"])
            slots = [values.get(name) for name in options] + [None] * 3
            item_id = variant["inventoryItemId"]
            variants.append(
                {
                    "id": gid_number(variant_id),
                    "admin_graphql_api_id": variant_id,
                    "product_id": number,
                    "title": self._variant_title(variant),
                    "sku": variant["sku"],
                    "barcode": variant["barcode"],
                    "price": fmt(variant["price"]),
                    "compare_at_price": fmt(variant["compareAtPrice"])
                    if variant["compareAtPrice"] is not None
                    else None,
                    "position": variant["position"],
                    "option1": slots[0],
                    "option2": slots[1],
                    "option3": slots[2],
                    "inventory_item_id": gid_number(item_id),
                    "inventory_quantity": self._total_available(item_id),
                    "created_at": self._rest_time(variant["createdAt"]),
                    "updated_at": self._rest_time(variant["updatedAt"]),
                }
            )
        return {
            "id": number,
            "admin_graphql_api_id": product_id,
            "title": product["title"],
            "handle": product["handle"],
            "body_html": product["descriptionHtml"],
            "vendor": product["vendor"],
            "product_type": product["productType"],
            "status": product["status"].lower(),
            "tags": ", ".join(product["tags"]),
            "created_at": self._rest_time(product["createdAt"]),
            "updated_at": self._rest_time(product["updatedAt"]),
            "variants": variants,
            "options": [
                {
                    "id": gid_number(option["id"]),
                    "product_id": number,
                    "name": option["name"],
                    "position": index,
                    "values": option["values"],
                }
                for index, option in enumerate(product["options"], 1)
            ],
        }

    @staticmethod
    def _option_names(product: dict) -> list[tuple[str, list]]:
        return [(option["name"], option["values"]) for option in product["options"]]

    @staticmethod
    def _variant_title(variant: dict) -> str:
        return " / ".join(value for _, value in variant["options"]) or "Default Title"

    def _v_location(self, location: dict | None) -> dict | None:
        if location is None:
            return None
        return {
            "__typename": "Location",
            "id": location["id"],
            "legacyResourceId": str(gid_number(location["id"])),
            "name": location["name"],
            "isActive": location["isActive"],
            "fulfillsOnlineOrders": True,
            "createdAt": gql_time(location["createdAt"]),
            "updatedAt": gql_time(location["updatedAt"]),
        }

    @staticmethod
    def _v_address(address: dict | None) -> dict | None:
        if not address:
            return None
        names = [address.get("firstName"), address.get("lastName")]
        return {
            "__typename": "MailingAddress",
            **address,
            "name": " ".join(n for n in names if n) or None,
            "country": COUNTRIES.get(address.get("countryCodeV2")),
        }

    def _v_customer(self, customer: dict | None) -> dict | None:
        if customer is None:
            return None
        email, phone = customer["email"], customer["phone"]
        names = [customer["firstName"], customer["lastName"]]
        addresses = [self._v_address(a) for a in customer["addresses"]]
        return {
            "__typename": "Customer",
            "id": customer["id"],
            "legacyResourceId": str(gid_number(customer["id"])),
            "createdAt": gql_time(customer["createdAt"]),
            "updatedAt": gql_time(customer["updatedAt"]),
            "displayName": " ".join(n for n in names if n) or email or phone or "",
            "firstName": customer["firstName"],
            "lastName": customer["lastName"],
            "email": email,
            "phone": phone,
            "defaultEmailAddress": {
                "emailAddress": email,
                "marketingState": "NOT_SUBSCRIBED",
            }
            if email
            else None,
            "defaultPhoneNumber": {"phoneNumber": phone} if phone else None,
            "defaultAddress": addresses[0] if addresses else None,
            "addresses": lambda info, first=None: addresses[:first],
            "note": customer["note"],
            "tags": list(customer["tags"]),
            "numberOfOrders": str(
                sum(
                    1 for o in self.orders.values() if o["customerId"] == customer["id"]
                )
            ),
        }

    def _v_product(self, product: dict | None) -> dict | None:
        if product is None:
            return None
        variants = [self.variants[v] for v in product["variants"]]
        sort_fields = {"ID": None, "POSITION": "position", "SKU": "sku"}
        return {
            "__typename": "Product",
            "id": product["id"],
            "legacyResourceId": str(gid_number(product["id"])),
            "title": product["title"],
            "handle": product["handle"],
            "status": product["status"],
            "vendor": product["vendor"],
            "productType": product["productType"],
            "descriptionHtml": product["descriptionHtml"],
            "tags": list(product["tags"]),
            "totalInventory": sum(
                self._total_available(v["inventoryItemId"]) for v in variants
            ),
            "createdAt": gql_time(product["createdAt"]),
            "updatedAt": gql_time(product["updatedAt"]),
            "options": lambda info, first=None: [
                self._v_option(option, index)
                for index, option in enumerate(product["options"][:first], 1)
            ],
            "variants": lambda info, **a: self._page(
                info,
                variants,
                a,
                self._v_variant,
                self._sort_key(a.get("sortKey"), sort_fields),
            ),
        }

    @staticmethod
    def _v_option(option: dict, position: int) -> dict:
        return {
            "__typename": "ProductOption",
            "id": option["id"],
            "name": option["name"],
            "position": position,
            "values": list(option["values"]),
            "optionValues": [
                {
                    "__typename": "ProductOptionValue",
                    "id": option["valueIds"][v],
                    "name": v,
                }
                for v in option["values"]
            ],
        }

    def _v_variant(self, variant: dict | None) -> dict | None:
        if variant is None:
            return None
        product = self.products[variant["productId"]]
        value_ids = {
            (option["name"], value): value_id
            for option in product["options"]
            for value, value_id in option["valueIds"].items()
        }
        title = self._variant_title(variant)
        compare = variant["compareAtPrice"]
        return {
            "__typename": "ProductVariant",
            "id": variant["id"],
            "legacyResourceId": str(gid_number(variant["id"])),
            "title": title,
            "displayName": f"{product['title']} - {title}",
            "sku": variant["sku"],
            "barcode": variant["barcode"],
            "price": fmt(variant["price"]),
            "compareAtPrice": None if compare is None else fmt(compare),
            "inventoryQuantity": self._total_available(variant["inventoryItemId"]),
            "selectedOptions": [
                {
                    "name": name,
                    "value": value,
                    "optionValue": {
                        "__typename": "ProductOptionValue",
                        "id": value_ids.get((name, value)),
                        "name": value,
                    },
                }
                for name, value in variant["options"]
            ],
            "createdAt": gql_time(variant["createdAt"]),
            "updatedAt": gql_time(variant["updatedAt"]),
            "product": lambda info: self._v_product(product),
            "inventoryItem": lambda info: self._v_item(
                self.items[variant["inventoryItemId"]]
            ),
        }

    def gql_location(self, info, id=None):
        if id is None:
            return self._v_location(next(iter(self.locations.values()), None))
        return self._v_location(self.locations.get(id))

    def gql_locations(self, info, **args):
        records = [
            location
            for location in self.locations.values()
            if location["isActive"] or args.get("includeInactive")
        ]
        records = self._filter(
            info,
            records,
            args.get("query"),
            lambda r: {
                None: [r["name"]],
                "name": ("text", r["name"]),
                "id": ("id", gid_number(r["id"])),
            },
            {"name", "id"},
        )
        keyfn = self._sort_key(args.get("sortKey"), {"ID": None, "NAME": "name"})
        return self._page(info, records, args, self._v_location, keyfn)

    def gql_customer(self, info, id):
        return self._v_customer(self.customers.get(id))

    def gql_customers(self, info, **args):
        def spec(c):
            def phone(value):
                return re.sub(r"[\s()-]", "", value or "")

            return {
                None: [c["email"], c["firstName"], c["lastName"], c["phone"]],
                "email": ("text", c["email"]),
                "phone": ("text", [c["phone"], phone(c["phone"])]),
                "first_name": ("text", c["firstName"]),
                "last_name": ("text", c["lastName"]),
                "updated_at": ("time", c["updatedAt"]),
                "created_at": ("time", c["createdAt"]),
                "id": ("id", gid_number(c["id"])),
                "tag": ("text", c["tags"]),
            }

        known = set(
            "email phone first_name last_name updated_at created_at id tag".split()
        )
        query = args.get("query")
        if query:  # phone numbers are searched without spaces or dashes
            query = re.sub(
                r"phone:(\S+)", lambda m: "phone:" + re.sub(r"[()-]", "", m[1]), query
            )
        records = self._filter(info, self.customers.values(), query, spec, known)
        keyfn = self._sort_key(
            args.get("sortKey"),
            {"ID": None, "CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt"},
        )
        return self._page(info, records, args, self._v_customer, keyfn)

    def gql_product(self, info, id):
        return self._v_product(self.products.get(id))

    def gql_products(self, info, **args):
        def spec(p):
            variants = [self.variants[v] for v in p["variants"]]
            return {
                None: [p["title"], *(v["sku"] for v in variants)],
                "title": ("text", p["title"]),
                "handle": ("text", p["handle"]),
                "sku": ("text", [v["sku"] for v in variants]),
                "barcode": ("text", [v["barcode"] for v in variants]),
                "status": ("text", p["status"].lower()),
                "vendor": ("text", p["vendor"]),
                "product_type": ("text", p["productType"]),
                "tag": ("text", p["tags"]),
                "updated_at": ("time", p["updatedAt"]),
                "created_at": ("time", p["createdAt"]),
                "id": ("id", gid_number(p["id"])),
            }

        known = set(
            "title handle sku barcode status vendor product_type tag updated_at "
            "created_at id".split()
        )
        records = self._filter(
            info, self.products.values(), args.get("query"), spec, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"),
            {
                "ID": None,
                "CREATED_AT": "createdAt",
                "UPDATED_AT": "updatedAt",
                "TITLE": "title",
            },
        )
        return self._page(info, records, args, self._v_product, keyfn)

    def gql_productVariant(self, info, id):
        return self._v_variant(self.variants.get(id))

    def gql_productVariants(self, info, **args):
        def spec(v):
            return {
                None: [v["sku"], self._variant_title(v)],
                "sku": ("text", v["sku"]),
                "barcode": ("text", v["barcode"]),
                "title": ("text", self._variant_title(v)),
                "product_id": ("id", gid_number(v["productId"])),
                "updated_at": ("time", v["updatedAt"]),
                "created_at": ("time", v["createdAt"]),
                "id": ("id", gid_number(v["id"])),
            }

        known = set("sku barcode title product_id updated_at created_at id".split())
        records = self._filter(
            info, self.variants.values(), args.get("query"), spec, known
        )
        keyfn = self._sort_key(
            args.get("sortKey"), {"ID": None, "POSITION": "position", "SKU": "sku"}
        )
        return self._page(info, records, args, self._v_variant, keyfn)

    def gql_productSet(self, info, input, identifier=None, synchronous=True):
        args = {"input": input, "identifier": identifier}
        return self._idempotent(
            info, args, lambda: self._product_set(info, input, identifier)
        )

    def _option_pairs(
        self, product, values: list[dict], path
    ) -> tuple[list, str | None]:
        option_names = {}
        for option in (product or {}).get("options", ()):
            option_names[option["id"]] = option["name"]
        pairs = []
        for value in values:
            name = value.get("optionName") or option_names.get(value.get("optionId"))
            if not name or value.get("name") is None:
                return [], f"Option value at {path} needs optionName and name."
            pairs.append((name, value["name"]))
        return pairs, None

    def _product_set(self, info, data: dict, identifier: dict | None) -> dict:
        def failure(message, path, code):
            return {"product": None, "userErrors": [_user_error(message, path, code)]}

        product = None
        if identifier:
            given = [k for k, v in identifier.items() if v is not None]
            if len(given) != 1:
                raise _error(
                    "ProductSetIdentifiers must include exactly one of the following "
                    "arguments: handle, id."
                )
            if given == ["id"]:
                product = self.products.get(identifier["id"])
                if product is None:
                    return failure(
                        "Product does not exist",
                        ["identifier", "id"],
                        "PRODUCT_DOES_NOT_EXIST",
                    )
            else:
                product = next(
                    (
                        p
                        for p in self.products.values()
                        if p["handle"] == identifier["handle"]
                    ),
                    None,
                )
        if product is None and not data.get("title"):
            return failure("Title can't be blank", ["input", "title"], "INVALID_INPUT")
        handle = data.get("handle")
        if product is None and identifier and identifier.get("handle"):
            handle = handle or identifier["handle"]  # an upsert by handle
        if handle and self._unique_handle(handle, product and product["id"]) != handle:
            return failure(
                f"Handle '{handle}' already in use.",
                ["input", "handle"],
                "HANDLE_NOT_UNIQUE",
            )
        existing = [self.variants[v] for v in product["variants"]] if product else []
        plan, claimed = [], set()
        for index, spec in enumerate(data.get("variants") or ()):
            path = ["input", "variants", str(index)]
            pairs, problem = self._option_pairs(product, spec["optionValues"], path)
            if problem:
                return failure(problem, [*path, "optionValues"], "INVALID_INPUT")
            sku = spec.get("sku") or (spec.get("inventoryItem") or {}).get("sku")
            target = None
            if spec.get("id"):
                target = next((v for v in existing if v["id"] == spec["id"]), None)
                if target is None:
                    return failure(
                        "Product variant does not exist",
                        [*path, "id"],
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
            else:
                free = [v for v in existing if v["id"] not in claimed]
                target = next((v for v in free if v["options"] == pairs), None) or next(
                    (v for v in free if sku and v["sku"] == sku), None
                )
            if target is not None:
                claimed.add(target["id"])
            try:
                for key in ("price", "compareAtPrice"):
                    if spec.get(key) is not None and money(spec[key]) < 0:
                        raise ValueError("negative price")
            except ValueError:
                return failure(
                    "Price must be a non-negative amount",
                    [*path, "price"],
                    "INVALID_INPUT",
                )
            for quantity in spec.get("inventoryQuantities") or ():
                if quantity["locationId"] not in self.locations:
                    return failure(
                        "Location does not exist",
                        [*path, "inventoryQuantities"],
                        "INVALID_INPUT",
                    )
            plan.append((target, spec, pairs, sku))
        created = product is None
        ms = self._now_ms()
        if created:
            product = {
                "id": self._next("Product"),
                "title": data["title"],
                "handle": self._unique_handle(handle or _slug(data["title"])),
                "status": "ACTIVE",
                "vendor": "",
                "productType": "",
                "descriptionHtml": "",
                "tags": [],
                "options": [],
                "variants": [],
                "createdAt": ms,
                "updatedAt": ms,
            }
            self.products[product["id"]] = product
            if data.get("variants") is None:
                plan = [(None, {}, [("Title", "Default Title")], None)]
        for key in ("title", "handle", "status", "vendor", "productType", "tags"):
            if data.get(key) is not None:
                product[key] = data[key]
        if data.get("descriptionHtml") is not None:
            product["descriptionHtml"] = data["descriptionHtml"]
        if data.get("variants") is not None or created:
            self._set_variants(product, plan)
        declared = [
            (option["name"], [v["name"] for v in option.get("values") or ()])
            for option in data.get("productOptions") or ()
            if option.get("name")
        ]
        self._sync_options(product, declared)
        self._touch(product)
        self._auto(
            info, "products/create" if created else "products/update", product["id"]
        )
        return {"product": self._v_product(product), "userErrors": []}

    def _set_variants(self, product: dict, plan: list) -> None:
        keep = []
        for target, spec, pairs, sku in plan:
            item_input = spec.get("inventoryItem") or {}
            if target is None:
                variant = self._new_variant(
                    product,
                    options=pairs,
                    sku=sku,
                    price=spec.get("price") or "0",
                    barcode=spec.get("barcode"),
                    compare_at_price=spec.get("compareAtPrice"),
                    tracked=item_input.get("tracked", True),
                )
                quantities = spec.get("inventoryQuantities")
                if quantities is None:
                    quantities = [
                        {"locationId": loc, "name": "available", "quantity": 0}
                        for loc in self.locations
                    ]
                for quantity in quantities:
                    level = self._level(
                        variant["inventoryItemId"], quantity["locationId"], create=True
                    )
                    # on_hand moves available only (the other states stay)
                    held = self._quantities(level)["on_hand"] - level["available"]
                    level["available"] = quantity["quantity"] - (
                        held if quantity["name"] == "on_hand" else 0
                    )
            else:
                variant = target
                variant["options"] = pairs
                if "sku" in spec or "sku" in item_input:
                    variant["sku"] = sku
                for key, record_key in (("barcode", "barcode"),):
                    if key in spec:
                        variant[record_key] = spec[key]
                if spec.get("price") is not None:
                    variant["price"] = money(spec["price"])
                if "compareAtPrice" in spec:
                    value = spec["compareAtPrice"]
                    variant["compareAtPrice"] = None if value is None else money(value)
                if "tracked" in item_input:
                    self.items[variant["inventoryItemId"]]["tracked"] = item_input[
                        "tracked"
                    ]
                self._touch(variant)
            keep.append(variant["id"])
        for variant_id in list(product["variants"]):
            if variant_id not in keep:
                self._delete_variant(variant_id)
        product["variants"] = keep
        for position, variant_id in enumerate(keep, 1):
            self.variants[variant_id]["position"] = position

    def gql_productVariantsBulkUpdate(
        self, info, productId, variants, allowPartialUpdates=False
    ):
        args = {
            "productId": productId,
            "variants": variants,
            "allowPartialUpdates": allowPartialUpdates,
        }
        return self._idempotent(
            info,
            args,
            lambda: self._variants_update(
                info, productId, variants, allowPartialUpdates
            ),
        )

    def _variants_update(self, info, product_id, variants, partial) -> dict:
        product = self.products.get(product_id)
        if product is None:
            error = _user_error(
                "Product does not exist", ["productId"], "PRODUCT_DOES_NOT_EXIST"
            )
            return {"product": None, "productVariants": None, "userErrors": [error]}
        errors, plan = [], []
        for index, spec in enumerate(variants):
            path = ["variants", str(index)]
            variant = self.variants.get(spec.get("id") or "")
            if not spec.get("id"):
                errors.append(
                    _user_error(
                        "Product variant is missing ID attribute",
                        path,
                        "PRODUCT_VARIANT_ID_MISSING",
                    )
                )
                continue
            if variant is None or variant["productId"] != product_id:
                errors.append(
                    _user_error(
                        "Product variant does not exist",
                        [*path, "id"],
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
                )
                continue
            try:
                prices = {
                    key: money(spec[key])
                    for key in ("price", "compareAtPrice")
                    if spec.get(key) is not None
                }
            except ValueError:
                errors.append(
                    _user_error("Price is invalid", [*path, "price"], "INVALID_INPUT")
                )
                continue
            if any(value < 0 for value in prices.values()):
                errors.append(
                    _user_error(
                        "Price can't be negative",
                        [*path, "price"],
                        "NEGATIVE_PRICE_VALUE",
                    )
                )
                continue
            pairs = None
            if spec.get("optionValues"):
                pairs, problem = self._option_pairs(product, spec["optionValues"], path)
                if problem:
                    errors.append(
                        _user_error(problem, [*path, "optionValues"], "INVALID_INPUT")
                    )
                    continue
            plan.append((variant, spec, prices, pairs))
        if errors and not partial:
            return {"product": None, "productVariants": None, "userErrors": errors}
        for variant, spec, prices, pairs in plan:
            variant.update(prices)
            if "compareAtPrice" in spec and spec["compareAtPrice"] is None:
                variant["compareAtPrice"] = None
            if "barcode" in spec:
                variant["barcode"] = spec["barcode"]
            item_input = spec.get("inventoryItem") or {}
            if "sku" in item_input:
                variant["sku"] = item_input["sku"]
            if "tracked" in item_input:
                self.items[variant["inventoryItemId"]]["tracked"] = item_input[
                    "tracked"
                ]
            if pairs:
                variant["options"] = pairs
            self._touch(variant)
        if plan:
            self._sync_options(product, [(o["name"], []) for o in product["options"]])
            self._touch(product)
            self._auto(info, "products/update", product["id"])
        return {
            "product": self._v_product(product),
            "productVariants": [self._v_variant(v) for v, _, _, _ in plan],
            "userErrors": errors,
        }
