"""The GraphQL documents the connector sends (Admin API 2026-10).

Contract tests validate each one against the official schema (with the
2026-04 additions for inventorySetQuantities).
"""

MONEY = "shopMoney { amount currencyCode }"
ADDRESS = (
    "name firstName lastName company address1 address2 city provinceCode zip "
    "countryCodeV2 phone"
)
TAXES = f"taxLines {{ title rate priceSet {{ {MONEY} }} }}"
ORDER = f"""
  id legacyResourceId name createdAt updatedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus currencyCode taxesIncluded
  email phone note tags paymentGatewayNames
  currentTotalPriceSet {{ {MONEY} }}
  totalShippingPriceSet {{ {MONEY} }}
  customer {{ id email firstName lastName phone }}
  shippingAddress {{ {ADDRESS} }}
  billingAddress {{ {ADDRESS} }}
  shippingLines(first: 5) {{ nodes {{
    title code discountedPriceSet {{ {MONEY} }} {TAXES} }} }}
  lineItems(first: 50) {{ pageInfo {{ hasNextPage }} nodes {{
    id sku title quantity currentQuantity
    originalUnitPriceSet {{ {MONEY} }}
    totalDiscountSet {{ {MONEY} }}
    {TAXES}
    variant {{ id inventoryItem {{ id }} }} }} }}
"""

SHOP = "query Shop { shop { id name myshopifyDomain currencyCode ianaTimezone } }"

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name isActive }
  }
}"""

ORDER_BY_ID = f"query OrderById($id: ID!) {{ order(id: $id) {{ {ORDER} }} }}"

SYNC_ORDERS = """
query SyncOrders($first: Int!, $after: String, $q: String) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}"""

FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) { nodes {
      id status
      assignedLocation { location { id } }
      lineItems(first: 50) { nodes { id remainingQuantity lineItem { id sku } } }
    } }
  }
}"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!, $key: String!) {
  fulfillmentCreate(fulfillment: $fulfillment) @idempotent(key: $key) {
    fulfillment { id status trackingInfo { company number url } }
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

INVENTORY_LEVELS = """
query InventoryLevels($id: ID!, $locationId: ID!) {
  inventoryItem(id: $id) {
    id
    inventoryLevel(locationId: $locationId) {
      quantities(names: ["available"]) { name quantity }
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
