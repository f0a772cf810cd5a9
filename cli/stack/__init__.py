"""The stack supervisor behind `bss up | down | status | logs`.

Modules by responsibility:

* `components` — what the stack is made of (argv, URL, health probe per component), from settings;
* `procs`      — detached spawning, pid files with process identity, stopping, memory of a tree;
* `probes`     — cheap health probes (TCP, raw HTTP, files) that import nothing heavy;
* `postgres`   — the embedded PostgreSQL: init once, run the postmaster directly, readiness;
* `migrate`    — bring the database to the head revision, asking `psql` first so Alembic is
  only imported when something is behind;
* `supervisor` — `up` (spawn everything at once, then poll) and `down` (stop by pid files);
* `status`     — what is running, how healthy, how much memory;
* `render`     — the Rich tables; `logs` — tail and follow the component logs.

Nothing here imports FastAPI, SQLAlchemy or temporalio: the CLI stays a thin, fast parent.
"""
