"""CSR portal placeholder (:9002): what the customer-service workbench will do."""

from __future__ import annotations

from portals.placeholder import create_app, page, serve

NAME = "portal-csr"
PAGE = page("BSS CSR console", "BSS customer-service (CSR) portal",
            "This portal is coming soon. It will let a customer-service agent:", [
                "find a customer and open the customer 360: lines, plans, balances, orders, payments,",
                "open, work and close cases and trouble tickets, with SLA deadlines,",
                "follow stuck orders and retry or cancel them,",
                "block, unblock or terminate a line, with the reason recorded in the audit trail,",
                "ask the assistant (the same operations as the CLI, under the CSR's policies)."])
app = create_app(NAME, PAGE)


def main(argv: list[str] | None = None) -> None:
    """Serve the CSR portal placeholder."""
    serve(app, "python -m portals.csr.app", lambda s: s.csr_port, argv)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
