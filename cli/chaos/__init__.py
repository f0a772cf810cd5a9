"""`bss chaos`: a mixed load on the running dev stack while its processes die, then the money and state gates.

Modules by responsibility:

* `faults` — kill or restart one component of a `bss up` stack and bring it back (the supervisor's `up`);
* `load`   — the mixed load over HTTP (orders, usage, VAS top-ups), waiting out every outage;
* `gates`  — what must hold afterwards: no stranded order, no double charge, exact balances;
* `replay` — every workflow the run touched replays on the current workflow code;
* `run`    — the rounds: load and seeded faults together, then the clock (renewals) and the gates.
"""
