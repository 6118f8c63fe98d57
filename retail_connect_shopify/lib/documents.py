"""The GraphQL documents the connector sends (Admin API 2026-10).

Contract tests validate each one against the official schema (with the
2026-04 additions for inventorySetQuantities).
"""

import json

MONEY = "shopMoney { amount currencyCode }"
ADDRESS = (
    "name firstName lastName company address1 address2 city provinceCode zip "
    "countryCodeV2 phone"
)
TAXES = f"taxLines {{ title rate priceSet {{ {MONEY} }} }}"
# Customer.email / Customer.phone are deprecated (the schema's reasons: "Use
# `defaultEmailAddress.emailAddress` / `defaultPhoneNumber.phoneNumber`")
CUSTOMER_CONTACT = (
    "defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber }"
)
LINE_ITEM = f"""
    id sku title quantity currentQuantity
    originalUnitPriceSet {{ {MONEY} }}
    totalDiscountSet {{ {MONEY} }}
    discountAllocations {{ allocatedAmountSet {{ {MONEY} }} }}
    isGiftCard nonFulfillableQuantity
    duties {{ price {{ {MONEY} }} taxLines {{ rate }} }}
    {TAXES}
    variant {{ id inventoryItem {{ id }} }}"""
ORDER = f"""
  id legacyResourceId name createdAt updatedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus currencyCode taxesIncluded
  email phone note tags paymentGatewayNames test sourceName
  currentTotalPriceSet {{ {MONEY} }}
  totalShippingPriceSet {{ {MONEY} }}
  customer {{ id firstName lastName {CUSTOMER_CONTACT} }}
  shippingAddress {{ {ADDRESS} }}
  billingAddress {{ {ADDRESS} }}
  shippingLines(first: 5) {{ nodes {{
    title code originalPriceSet {{ {MONEY} }}
    discountedPriceSet {{ {MONEY} }} {TAXES} }} }}
  # every discount is in the lines' discountAllocations: totalDiscountSet
  # leaves out order-level ones (a code off the whole order)
  lineItems(first: 50) {{ pageInfo {{ hasNextPage endCursor }} nodes {{
    {LINE_ITEM} }} }}
  # refunded units leave currentQuantity as removed ones do: an order edit is
  # what is left once the refunds are added back (models/shopify_order_import)
  refunds {{ id refundLineItems(first: 20) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ quantity lineItem {{ id }} }} }} }}
  # which payments exist: the payments flow is queued for unbooked ones only.
  # Order.refunds and Order.transactions are lists that ``first`` only
  # truncates (see ORDER_TRANSACTIONS): asked whole
  transactions {{ id kind status }}
"""

SHOP = "query Shop { shop { id name myshopifyDomain currencyCode ianaTimezone } }"

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name isActive }
  }
}"""

ACCESS_SCOPES = (
    "query AccessScopes { currentAppInstallation { accessScopes { handle } } }"
)
ORDER_BY_ID = f"query OrderById($id: ID!) {{ order(id: $id) {{ {ORDER} }} }}"
# The line items after ORDER's first page, page after page: "you can use
# cursor-based pagination to retrieve the next set of results"
# (https://shopify.dev/docs/api/usage/pagination-graphql).
ORDER_LINE_ITEMS = f"""
query OrderLineItems($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_ITEM} }}
    }}
  }}
}}"""

# A refund's amounts in the shop's currency: the refunds/create payload gives
# line subtotals and transactions in the customer's (presentment) currency.
# Refund.refundLineItems is a connection (RefundLineItemConnection): its
# first page comes with the refund (here, or with the order in ORDER), the
# rest through the node query page after page (cursor pagination,
# https://shopify.dev/docs/api/usage/pagination-graphql; the node query,
# https://shopify.dev/docs/api/admin-graphql/latest/queries/node).
REFUND_LINE = f"quantity lineItem {{ id }} subtotalSet {{ {MONEY} }}"
REFUND_BY_ID = f"""
query RefundById($id: ID!) {{
  node(id: $id) {{
    ... on Refund {{
      id
      return {{ id }}
      totalRefundedSet {{ {MONEY} }}
      refundLineItems(first: 50) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {REFUND_LINE} }}
      }}
    }}
  }}
}}"""

REFUND_LINES = f"""
query RefundLines($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on Refund {{
      refundLineItems(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {REFUND_LINE} }}
      }}
    }}
  }}
}}"""

# An order's transactions (payments, captures, refunds) in the shop's money,
# and which refund each REFUND belongs to: "OrderTransaction ... kind,
# status, gateway, amountSet, processedAt, parentTransaction"
# (https://shopify.dev/docs/api/admin-graphql/latest/objects/OrderTransaction).
# Order.transactions and Order.refunds are plain lists whose optional
# ``first`` only truncates ("Truncate the array result to this size", Order
# in Shopify's Admin schema; https://shopify.dev/docs/api/admin-graphql/
# latest/objects/Order): asked without it, they come whole. A refund's
# transactions are a connection (OrderTransactionConnection): the first page
# comes with the order, the rest through the node query page after page
# (https://shopify.dev/docs/api/admin-graphql/latest/queries/node; Refund
# implements Node).
ORDER_TRANSACTIONS = f"""
query OrderTransactions($id: ID!) {{
  order(id: $id) {{
    id name displayFinancialStatus
    transactions {{
      id kind status gateway processedAt createdAt
      amountSet {{ {MONEY} }}
      parentTransaction {{ id }}
    }}
    refunds {{ id transactions(first: 10) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id }}
    }} }}
  }}
}}"""

REFUND_TRANSACTIONS = """
query RefundTransactions($id: ID!, $first: Int!, $after: String) {
  node(id: $id) {
    ... on Refund {
      transactions(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id }
      }
    }
  }
}"""

SYNC_ORDERS = """
query SyncOrders($first: Int!, $after: String, $q: String) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}"""

# An order's fulfillment orders and their lines are connections: both are
# read page after page (https://shopify.dev/docs/api/usage/pagination-graphql)
FULFILLMENT_ORDER_LINE = "id remainingQuantity lineItem { id sku }"
FULFILLMENT_ORDERS = f"""
query FulfillmentOrders($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    id
    fulfillmentOrders(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id status
        assignedLocation {{ location {{ id }} }}
        lineItems(first: 50) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {FULFILLMENT_ORDER_LINE} }}
        }}
      }}
    }}
  }}
}}"""

FULFILLMENT_ORDER_LINES = f"""
query FulfillmentOrderLines($id: ID!, $first: Int!, $after: String) {{
  fulfillmentOrder(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {FULFILLMENT_ORDER_LINE} }}
    }}
  }}
}}"""

# what an order's fulfilments hold: a retried fulfil job adopts those an
# earlier try made (fulfillmentCreate takes no idempotency key), so it needs
# every one. Order.fulfillments is a plain list, not a connection: no cursor
# to page (FulfillmentConnection serves FulfillmentOrder.fulfillments only,
# https://shopify.dev/docs/api/admin-graphql/latest/connections/FulfillmentConnection;
# the list's only other argument filters by date,
# https://shopify.dev/changelog/add-createdupdated-at-time-based-filters-for-an-orders-fulfillments),
# and its optional ``first`` only truncates it ("Truncate the array result to
# this size", Order.fulfillments in Shopify's Admin schema): asked without
# ``first``, the list comes whole.
# A fulfilment's lines are a connection: the first page comes with the order,
# the rest through the Node interface, page after page (the node query,
# https://shopify.dev/docs/api/admin-graphql/latest/queries/node; Fulfillment
# implements Node).
FULFILLMENT_LINE = "quantity lineItem { id }"
ORDER_FULFILLMENTS = f"""
query OrderFulfillments($id: ID!) {{
  order(id: $id) {{
    id
    fulfillments {{
      id fulfillmentLineItems(first: 50) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {FULFILLMENT_LINE} }}
      }}
    }}
  }}
}}"""

FULFILLMENT_LINES = f"""
query FulfillmentLines($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on Fulfillment {{
      fulfillmentLineItems(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {FULFILLMENT_LINE} }}
      }}
    }}
  }}
}}"""

# a return with what came back: the dispositions of its reverse fulfillment
# orders (https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/
# manage-reverse-fulfillment-orders)
# a return with what came back: the dispositions of its reverse fulfillment
# orders (https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/
# manage-reverse-fulfillment-orders); every connection is read page after
# page (cursor pagination, https://shopify.dev/docs/api/usage/pagination-graphql)
RFO_LINE = """
id
fulfillmentLineItem { lineItem { id } }
dispositions { id type quantity }
"""
RETURN_BY_ID = f"""
query ReturnById($id: ID!, $first: Int!, $after: String) {{
  return(id: $id) {{
    id name status
    order {{ id }}
    reverseFulfillmentOrders(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id lineItems(first: 50) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {RFO_LINE} }}
      }} }}
    }}
  }}
}}"""

REVERSE_FULFILLMENT_ORDER_LINES = f"""
query ReverseFulfillmentOrderLines($id: ID!, $first: Int!, $after: String) {{
  reverseFulfillmentOrder(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {RFO_LINE} }}
    }}
  }}
}}"""

# the order of a reverse fulfillment order (the object has no ``return``
# field: its return is found among the order's returns)
REVERSE_FULFILLMENT_ORDER_ORDER = """
query ReverseFulfillmentOrderOrder($id: ID!) {
  reverseFulfillmentOrder(id: $id) { id order { id } }
}"""

ORDER_RETURNS = """
query OrderReturns($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    returns(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id reverseFulfillmentOrders(first: 10) {
        pageInfo { hasNextPage }
        nodes { id }
      } }
    }
  }
}"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"""

FULFILLMENT_TRACKING_UPDATE = """
mutation FulfillmentTrackingUpdate($id: ID!, $tracking: FulfillmentTrackingInput!) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $id, trackingInfoInput: $tracking, notifyCustomer: true
  ) {
    fulfillment { id trackingInfo { company number url } }
    userErrors { field message }
  }
}"""

INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

# up to 250 items at one location: what Shopify offers and what it committed
# to orders (null node: the item is gone; null level: not stocked there)
INVENTORY_LEVELS = """
query InventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available", "committed"]) { name quantity }
      }
    }
  }
}"""

WEBHOOKS = """
query Webhooks($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}"""

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!,
                       $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}"""

# ------------------------------------------------------------- backfill
BULK_RUN = """
mutation BulkRun($query: String!, $key: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false)
      @idempotent(key: $key) {
    bulkOperation { id status }
    userErrors { field message }
  }
}"""

BULK_STATUS = """
query BulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount rootObjectCount url }
  }
}"""

# Inner queries of bulk operations: connections without arguments, one level of
# nesting; the JSONL lists each nested node on its own line with __parentId,
# anywhere in the file (groupObjects: false, the 2026-01 default: grouping is
# slower and times out more; assemble() pairs them by id whatever the order).
BULK_ORDER_FIELDS = f"""
  id legacyResourceId name createdAt updatedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus currencyCode taxesIncluded
  email phone note tags test sourceName
  currentTotalPriceSet {{ {MONEY} }}
  customer {{ id firstName lastName {CUSTOMER_CONTACT} }}
  shippingAddress {{ {ADDRESS} }}
  billingAddress {{ {ADDRESS} }}
  shippingLines {{ edges {{ node {{
    id title code originalPriceSet {{ {MONEY} }}
    discountedPriceSet {{ {MONEY} }} {TAXES} }} }} }}
  lineItems {{ edges {{ node {{
    id sku title quantity currentQuantity
    originalUnitPriceSet {{ {MONEY} }}
    totalDiscountSet {{ {MONEY} }}
    discountAllocations {{ allocatedAmountSet {{ {MONEY} }} }}
    isGiftCard nonFulfillableQuantity
    duties {{ price {{ {MONEY} }} taxLines {{ rate }} }}
    {TAXES}
    variant {{ id inventoryItem {{ id }} }} }} }} }}
"""


def bulk_orders_query(since_iso):
    search = json.dumps(f"updated_at:>='{since_iso}'")  # a GraphQL string literal
    return (
        "{ orders(query: "
        + search
        + ") { edges { node { "
        + BULK_ORDER_FIELDS
        + " } } } }"
    )


BULK_VARIANTS_QUERY = (
    "{ productVariants { edges { node { id sku inventoryItem { id } } } } }"
)

# -------------------------------------------------------------- catalog
CATALOG_VARIANT = (
    "id sku barcode price selectedOptions { name value } inventoryItem { id tracked }"
)

PRODUCT_SET = f"""
mutation ProductSet($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {{
  productSet(identifier: $identifier, input: $input, synchronous: true) {{
    product {{
      id handle
      variants(first: 100) {{ nodes {{ {CATALOG_VARIANT} }} }}
    }}
    userErrors {{ code field message }}
  }}
}}"""

# Shopify products holding a variant (by SKU or id) before a first export.
PRODUCT_LOOKUP = """
query ProductLookup($q: String!) {
  productVariants(first: 10, query: $q) {
    nodes { id sku product { id handle } }
  }
}"""

# 10 products x 25 variants stay under the 1000-point limit of one query;
# products with more variants are read again with PRODUCT_VARIANTS.
PRODUCTS_IMPORT = f"""
query ProductsImport($first: Int!, $after: String, $q: String) {{
  products(first: $first, after: $after, query: $q) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id title handle status descriptionHtml updatedAt
      options {{ name values }}
      variants(first: 25) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {CATALOG_VARIANT} }}
      }}
    }}
  }}
}}"""

PRODUCT_VARIANTS = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {CATALOG_VARIANT} }}
    }}
  }}
}}"""


def variants_by_sku(count):
    """One query looking up ``count`` SKUs (``$q0``.. ``sku:"..."`` searches),
    each under its alias ``s0``..: the variants Shopify has for each SKU.
    (Search syntax: https://shopify.dev/docs/api/usage/search-syntax;
    QueryRoot.productVariants ``query`` filter ``sku``.)"""
    params = ", ".join(f"$q{i}: String!" for i in range(count))
    fields = " ".join(
        f"s{i}: productVariants(first: 10, query: $q{i}) "
        "{ nodes { id sku inventoryItem { id } } }"
        for i in range(count)
    )
    return f"query VariantsBySku({params}) {{ {fields} }}"
