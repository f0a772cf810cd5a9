"""eSIM re-download: a line's activation code as a QR code (inline SVG) and as text, after a step-up.

The activation code installs the line's number on any phone that scans it, so it is shown only to
a customer who has just entered an emailed code, and the page is never cached. A line that has
ended has no eSIM to download (its profile went back to the pool): the page says so instead.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from operations import subscription
from portals.esim_qr import parse_lpa, qr_svg
from portals.self_serve.settings import call, owned_id, signed_in, stepped_up
from portals.web import Portal

LIVE = ("pending", "active", "blocked")


def add_esim_routes(app: FastAPI, portal: Portal) -> None:
    """Register the eSIM re-download page."""

    @app.get("/account/lines/{subscription_id}/esim", response_class=HTMLResponse)
    async def esim_page(request: Request, subscription_id: str) -> HTMLResponse:
        owned_id("line", subscription_id)
        session = await signed_in(request)
        # Another customer's line is the API's 404 for this bound call: the not-found page, and no code is
        # mailed for it. The profile read before the step-up is shown only after it.
        profile = await call(portal, session, subscription.esim, subscription_id=subscription_id)
        await stepped_up(request, session)
        live = profile.get("subscriptionState") in LIVE
        code = parse_lpa(profile["activationCode"]) if live else None
        response = portal.page(request, "esim.html", line_id=subscription_id, msisdn=profile.get("msisdn") or "",
                               code=code, qr=qr_svg(code.code, title=f"eSIM QR code for {profile.get('msisdn')}")
                                 if code else None, page="account")
        response.headers["Cache-Control"] = "no-store"
        return response
