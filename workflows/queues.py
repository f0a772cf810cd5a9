"""Task queues, one per concern, so a slow network element never starves payments."""

ORDERS = "bss-orders"
SUBSCRIPTIONS = "bss-subscriptions"
PAYMENTS = "bss-payments"
PROVISIONING = "bss-provisioning"
SYSTEM = "bss-system"

ALL = (ORDERS, SUBSCRIPTIONS, PAYMENTS, PROVISIONING, SYSTEM)
