"""`bss soak`: months of synthetic business on a private time-skipping stack, then a reconciled report.

`stack` starts the private parts in this process (embedded PostgreSQL, the time-skipping Temporal
dev server, every worker, the API on uvicorn); `driver` signs customers up through the API and lives
their days; `chat` talks to the agent's customer profile with a scripted model; `reconcile` checks
money, balances, orders and duplicates against the database and the API; `report` renders it.
"""
