"""The paid steps of a line: renewals and VAS purchases, each charge → line write → bill.

Charge first, then write: the customer never gets what was not paid for. The write after an
approved charge retries until it holds (never "charged but still blocked"); if it is *refused*
(a business rule, not an outage) the charge is refunded before the refusal reaches the caller.
The bill is issued last, under the charge's own idempotency key; a bill that cannot be issued is
logged for billing to reissue, never a reason to undo a paid period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.billing import issue_bill
    from activities.payment import abandon_charge, charge, refund
    from activities.subscription import block_line
    from activities.subscription_renewal import apply_renewal, renewal_terms
    from activities.subscription_vas import grant_vas, vas_offer
    from domain.billing import BillKind, BillLine, IssueBill, RateType
    from domain.payment import AbandonedCharge, PaymentResult
    from domain.subscription_flow import (
        Acting, ApplyRenewal, BlockLine, GrantVas, LineView, PurchaseVas, RecentRequest, RenewalTerms, Renewed,
        RenewNow, VasPurchased, VasTimer, renew_request_key, renewal_key, vas_key,
    )
    from domain.subscription_ops import BlockReason, RenewalKind
    from workflows import queues
    from workflows.retries import OUTAGE_WINDOW, PAYMENT, PAYMENT_ERRORS, STEP, UNDO
    from workflows.subscription_steps import internal, refusal, step

# A scheduled renewal waits out a short gateway outage (an outage is not the customer's decline): 8 gateway
# errors, about 20 minutes apart at most; then the period is unpaid, as for a decline (an explicit renew lifts
# the block). An outage of our own spends none of those (the charge counts gateway errors per key).
RENEWAL_PAYMENT = RetryPolicy(initial_interval=timedelta(seconds=10), backoff_coefficient=2.0,
                              maximum_interval=timedelta(minutes=10))
RENEWAL_ERRORS = 8
RENEWAL_WINDOW = timedelta(hours=2)
DAY = timedelta(days=1)


def _refused_before_the_gateway(err: BaseException) -> bool:
    """A charge refused by a rule before the gateway could be asked (no card, a key already spent): nothing to settle."""
    cause = err.cause if isinstance(err, ActivityError) else err
    return (isinstance(cause, ApplicationError) and cause.non_retryable
            and (cause.type or "").startswith(("payment.charge.", "payment.idempotency_key")))


@dataclass
class ScheduledCharge:
    """A period-end renewal charged outside the line lock: the period it pays, and how the card answered."""

    period_end: datetime
    terms: RenewalTerms | None
    payment: PaymentResult | None
    cause: str  # renewal.approved | renewal.declined | renewal.payment_failed


@dataclass
class ScheduledOutcome:
    """The line after a period-end renewal, and whether it was paid."""

    line: LineView
    renewed: bool


@dataclass
class Bought:
    """A VAS purchase: the answer, the line after it, and its expiry timer if it lapses on its own."""

    result: VasPurchased
    line: LineView
    timer: VasTimer | None
    served: RecentRequest


class Money:
    """Charge, write, bill — for one line."""

    def __init__(self, subscription_id: str) -> None:
        self.id = subscription_id

    # --- renewals ------------------------------------------------------------------------------------

    async def charge_renewal(self, line: LineView) -> ScheduledCharge:
        """Charge the period after `line`'s current one; run *without* the line lock (it may take minutes).

        A card that keeps failing (gateway `error`) is tried a bounded number of times, then the period is
        treated as declined: an outage must not hold the line, and every attempt writes an error payment.
        """
        terms = None
        try:
            terms = await internal(renewal_terms, self.id, line.period_end)
            key = renewal_key(self.id, terms.period_number)
            payment = await self._charge(terms.customer_id, terms.price_minor, terms.currency, "renewal", key,
                                         RENEWAL_PAYMENT, RENEWAL_ERRORS, RENEWAL_WINDOW)
            cause = "renewal.approved" if payment.approved else "renewal.declined"
            return ScheduledCharge(line.period_end, terms, payment, cause)
        except (ActivityError, ApplicationError) as err:  # no card, a refusal, or attempts spent on errors
            workflow.logger.warning("renewal of %s not paid: %s", self.id, err)
            if terms is not None and not _refused_before_the_gateway(err):
                await self._give_up(terms.customer_id, terms.price_minor, terms.currency, "renewal",
                                    renewal_key(self.id, terms.period_number), "the renewal charge was given up")
            return ScheduledCharge(line.period_end, terms, None, "renewal.payment_failed")

    async def settle_renewal(self, line: LineView, charged: ScheduledCharge, now: datetime) -> ScheduledOutcome:
        """Under the lock again: start the paid period, or block an unpaid one — if the line still awaits it.

        The line may have changed while the card was charged (terminated, renewed explicitly): a late
        approval then pays for nothing and goes back to the card, and an unpaid one blocks nothing.
        """
        awaiting = line.state in ("active", "blocked") and line.period_end == charged.period_end
        payment, terms = charged.payment, charged.terms
        if payment is not None and payment.approved and terms is not None:
            key = renewal_key(self.id, terms.period_number)
            if not awaiting:
                await self._refund(payment, key, "the line changed while its renewal was charged")
                return ScheduledOutcome(line, False)
            renewed = await self._start_period(terms, payment, key, RenewalKind.SCHEDULED, line.period_end, now,
                                               Acting())
            await self._bill(BillKind.RENEWAL, key, terms.customer_id, payment, renewed,
                             BillLine(offering_id=terms.offering_id, description=f"{terms.offering_name} renewal",
                                      amount_minor=terms.price_minor, currency=terms.currency,
                                      rate_type=RateType.RECURRING))
            return ScheduledOutcome(renewed, True)
        if not awaiting:
            return ScheduledOutcome(line, False)
        workflow.logger.info("renewal of %s unpaid (%s): blocking", self.id, charged.cause)
        blocked = await internal(block_line, BlockLine(subscription_id=self.id, reason=BlockReason.RENEWAL_DECLINED,
                                                       as_of=now, cause=charged.cause))
        return ScheduledOutcome(blocked, False)

    async def renew_now(self, line: LineView, request: RenewNow, now: datetime) -> Renewed:
        """Explicit renew: charge, then start a period from now (lifting any block)."""
        terms = await step(renewal_terms, self.id, now)
        key = renew_request_key(self.id, request.request_id)
        payment = await self._pay(terms.customer_id, terms.price_minor, terms.currency, "renewal", key,
                                  "subscription.renew.payment_declined")
        renewed = await self._start_period(terms, payment, key, RenewalKind.EXPLICIT, now, now, request)
        await self._bill(BillKind.RENEWAL, key, terms.customer_id, payment, renewed,
                         BillLine(offering_id=terms.offering_id, description=f"{terms.offering_name} renewal",
                                  amount_minor=terms.price_minor, currency=terms.currency,
                                  rate_type=RateType.RECURRING))
        return Renewed(subscription_id=self.id, period_number=renewed.period_number, payment_id=payment.payment_id,
                       amount_minor=payment.amount_minor, currency=payment.currency, line=renewed)

    @staticmethod
    def served_renewal(request: RenewNow, result: Renewed) -> RecentRequest:
        """What to remember of a renew request, to answer its retries."""
        return RecentRequest(request_id=request.request_id, kind="renew", payment_id=result.payment_id,
                             amount_minor=result.amount_minor, currency=result.currency,
                             period_number=result.period_number)

    def renew_replay(self, done: RecentRequest, line: LineView) -> Renewed:
        """The answer to a renew request already served."""
        return Renewed(subscription_id=self.id, period_number=done.period_number or line.period_number,
                       payment_id=done.payment_id, amount_minor=done.amount_minor, currency=done.currency,
                       replayed=True, line=line)

    async def _start_period(self, terms: RenewalTerms, payment: PaymentResult, charge_key: str, kind: RenewalKind,
                            start: datetime, now: datetime, acting: Acting) -> LineView:
        cmd = ApplyRenewal(terms=terms, kind=kind.value, payment_id=payment.payment_id,
                           idempotency_key=renewal_key(self.id, terms.period_number), period_start=start, as_of=now,
                           **acting.acting())
        try:
            return await internal(apply_renewal, cmd)  # retried until it holds: paid means renewed
        except ActivityError as err:
            await self._refund(payment, charge_key, "the renewal was refused after payment")
            raise refusal(err) from err

    # --- VAS ---------------------------------------------------------------------------------------------

    async def buy_vas(self, line: LineView, request: PurchaseVas, now: datetime) -> Bought:
        """Charge the VAS price, grant the allowance (expiring with the period or on its own clock), bill it."""
        offer = await step(vas_offer, request.offering_id, now)
        key = vas_key(self.id, request.request_id)
        payment = await self._pay(line.customer_id, offer.price_minor, offer.currency, "vas", key,
                                  "subscription.vas_purchase.payment_declined")
        timed = offer.expiry == "duration"
        expires_at = now + timedelta(seconds=offer.duration_seconds or DAY.total_seconds()) if timed else line.period_end
        try:
            granted = await internal(grant_vas, GrantVas(
                subscription_id=self.id, offer=offer, request_id=request.request_id, idempotency_key=key,
                payment_id=payment.payment_id, as_of=now, expires_at=expires_at, **request.acting()))
        except ActivityError as err:
            await self._refund(payment, key, "the VAS was refused after payment")
            raise refusal(err) from err
        await self._bill(BillKind.VAS, key, line.customer_id, payment, granted.line,
                         BillLine(offering_id=offer.offering_id, description=offer.name, amount_minor=offer.price_minor,
                                  currency=offer.currency, rate_type=RateType.ONE_TIME), period=(now, expires_at))
        result = VasPurchased(subscription_id=self.id, offering_id=offer.offering_id, request_id=request.request_id,
                              payment_id=payment.payment_id, amount_minor=payment.amount_minor,
                              currency=payment.currency, expires_at=expires_at, unblocked=granted.unblocked,
                              line=granted.line)
        timer = VasTimer(grant_key=key, offering_id=offer.offering_id, expires_at=expires_at) if timed else None
        served = RecentRequest(request_id=request.request_id, kind="vas", payment_id=payment.payment_id,
                               amount_minor=payment.amount_minor, currency=payment.currency,
                               offering_id=offer.offering_id, expires_at=expires_at)
        return Bought(result, granted.line, timer, served)

    def vas_replay(self, done: RecentRequest, line: LineView) -> VasPurchased:
        """The answer to a VAS request already served."""
        return VasPurchased(subscription_id=self.id, offering_id=done.offering_id or "", request_id=done.request_id,
                            payment_id=done.payment_id, amount_minor=done.amount_minor, currency=done.currency,
                            expires_at=done.expires_at or line.period_end, unblocked=False, replayed=True, line=line)

    # --- the card and the bill -------------------------------------------------------------------------

    async def _charge(self, customer_id: str, amount_minor: int, currency: str, purpose: str, key: str,
                      policy: RetryPolicy = PAYMENT, errors: int = PAYMENT_ERRORS,
                      window: timedelta = OUTAGE_WINDOW) -> PaymentResult:
        return await workflow.execute_activity(
            charge, args=[customer_id, amount_minor, currency, purpose, self.id, key, None, errors],
            task_queue=queues.PAYMENTS, start_to_close_timeout=STEP, schedule_to_close_timeout=window,
            retry_policy=policy)

    async def _give_up(self, customer_id: str, amount_minor: int, currency: str, purpose: str, key: str,
                       reason: str) -> AbandonedCharge:
        """Settle a charge the step gave up on: an approval it could not record goes back to the card."""
        return await workflow.execute_activity(
            abandon_charge, args=[customer_id, amount_minor, currency, purpose, self.id, key, f"{key}:refund", reason],
            task_queue=queues.PAYMENTS, start_to_close_timeout=STEP, retry_policy=UNDO)

    async def _pay(self, customer_id: str, amount_minor: int, currency: str, purpose: str, key: str,
                   declined: str) -> PaymentResult:
        """Charge inside an update: a decline (or no usable card) fails the update with `declined`."""
        try:
            payment = await self._charge(customer_id, amount_minor, currency, purpose, key)
        except ActivityError as err:
            if _refused_before_the_gateway(err):
                raise refusal(err, declined) from err
            # Whatever the gateway did under the key is settled before the caller hears "no".
            settled = await self._give_up(customer_id, amount_minor, currency, purpose, key,
                                          "the purchase was not completed")
            raise ApplicationError(f"{declined}: the card payment could not be completed "
                                   f"({settled.outcome.replace('_', ' ')}); nothing stays charged",
                                   type=declined, non_retryable=True) from err
        if not payment.approved:
            raise ApplicationError(f"{declined}: the card was declined ({payment.decline_code or payment.status})",
                                   {"payment_id": payment.payment_id}, type=declined, non_retryable=True)
        return payment

    async def _refund(self, payment: PaymentResult, charge_key: str, reason: str) -> None:
        await workflow.execute_activity(
            refund, args=[payment.payment_id, payment.amount_minor, f"{charge_key}:refund", reason],
            task_queue=queues.PAYMENTS, start_to_close_timeout=STEP, retry_policy=UNDO)

    async def _bill(self, kind: BillKind, key: str, customer_id: str, payment: PaymentResult, line: LineView,
                    item: BillLine, period: tuple[datetime, datetime] | None = None) -> None:
        start, end = period or (line.period_start, line.period_end)
        try:
            await internal(issue_bill, IssueBill(idempotency_key=key, customer_id=customer_id, subscription_id=self.id,
                                                 kind=kind, payment_id=payment.payment_id, period_start=start,
                                                 period_end=end, lines=[item]))
        except ActivityError as err:
            workflow.logger.error("bill %s not issued (billing can reissue it): %s", key, err)
