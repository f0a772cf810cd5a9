"""Self-serve portal placeholder (:9001): what the customer portal will do."""

from __future__ import annotations

from portals.placeholder import create_app, page, serve

NAME = "portal-self-serve"
PAGE = page("BSS self-serve", "BSS self-serve portal", "This portal is coming soon. It will let a customer:", [
    "browse the prepaid plans and add-ons (VAS) of the catalog,",
    "sign up: pick a number, get an eSIM (QR code), pay with a card on file,",
    "follow the order until the line is active,",
    "see a dashboard of bundle balances, renewals and payments,",
    "top up, buy add-ons, change or cancel the plan."])
app = create_app(NAME, PAGE)


def main(argv: list[str] | None = None) -> None:
    """Serve the self-serve portal placeholder."""
    serve(app, "python -m portals.self_serve.app", lambda s: s.self_serve_port, argv)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
