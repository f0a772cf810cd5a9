"""Timeouts and retry policies the workflows share, one definition per kind of step."""

from datetime import timedelta

from temporalio.common import RetryPolicy

STEP = timedelta(seconds=30)
# Our own database steps: retry until they succeed (a DB blip must not fail an order, and "charged
# but still blocked" must not be a state a line can stay in).
INTERNAL = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=10))
# The payment gateway: declines are results, not errors. Its `error` answers are counted per key by the
# charge itself (PAYMENT_ERRORS, then a non-retryable `payment.gateway.unavailable`); anything else is an
# outage of ours, retried until it ends, bounded only by OUTAGE_WINDOW.
PAYMENT = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))
PAYMENT_ERRORS = 4
# A network task: its element's attempts budget is counted in the task row by the activity, which
# raises a non-retryable error once it is spent; anything else (our database or the worker down) is
# an outage, retried until it ends, bounded only by OUTAGE_WINDOW.
NETWORK = RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=2.0,
                      maximum_interval=timedelta(seconds=5))
# How long a step with an outside budget waits out an outage (schedule-to-close) before it fails.
OUTAGE_WINDOW = timedelta(minutes=10)
# Undo steps must eventually succeed: money goes back, numbers go back, whatever it takes.
UNDO = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
# A periodic sweep: a few quick tries, then give up this turn; the next turn sweeps again.
SWEEP = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=10), maximum_attempts=4)
