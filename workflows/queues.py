"""Task queues, one per concern, so a slow network element never starves payments."""

ORDERS = "bss-orders"
SUBSCRIPTIONS = "bss-subscriptions"
PAYMENTS = "bss-payments"
PROVISIONING = "bss-provisioning"
SYSTEM = "bss-system"
EVENTS = "bss-events"  # TMF hub deliveries: a slow listener never delays an order or an SLA sweep

ALL = (ORDERS, SUBSCRIPTIONS, PAYMENTS, PROVISIONING, SYSTEM, EVENTS)
