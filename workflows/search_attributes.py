"""Search attributes the workflows upsert so operators can find them in the Temporal Web UI.

The registered set lives in `temporal-dev/search-attributes.txt` (read by `bss up`, the test
fixtures and the compose namespace job); a test keeps this module and that file in step.
No raw MSISDN here: search attributes are stored unencrypted, so lines are found by `LineRef`.
"""

from temporalio.common import SearchAttributeKey

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
SUBSCRIPTION_ID = SearchAttributeKey.for_keyword("SubscriptionId")
PLAN_CODE = SearchAttributeKey.for_keyword("PlanCode")
LINE_REF = SearchAttributeKey.for_keyword("LineRef")
NEXT_RENEWAL_AT = SearchAttributeKey.for_datetime("NextRenewalAt")
# Undos an order could not do (comma-separated names, e.g. "refund"); absent when all were done.
UNDO_FAILED = SearchAttributeKey.for_keyword("UndoFailed")

ALL = (CUSTOMER_ID, ORDER_ID, ORDER_STATUS, SUBSCRIPTION_ID, PLAN_CODE, LINE_REF, NEXT_RENEWAL_AT, UNDO_FAILED)
