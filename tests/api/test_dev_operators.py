"""A dev stack's seeded care staff get console logins once, with passwords only their owner can read."""

from __future__ import annotations

import stat

from activities import portal_sessions
from core.settings import get_settings


async def test_dev_seed_gives_three_staff_logins_once_in_a_private_file(seeded_db, tmp_path):
    dev = get_settings().model_copy(update={"env": "dev", "home": tmp_path})
    path = await portal_sessions.seed_dev_operators(dev)
    assert path == tmp_path / "operators.txt" and stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["aisha", "marcus", "ravi"]
    username, password = lines[0].split()[:2]
    session = await portal_sessions.operator_login("portal-csr", username, password, None, dev)
    assert session["operator"]["role"] == "csr" and session["operator"]["agentId"] == "AG-CSR-01"
    # A rerun keeps the logins and writes nothing new.
    assert await portal_sessions.seed_dev_operators(dev) == path and path.read_text().splitlines() == lines
    # Outside dev nothing is made.
    assert await portal_sessions.seed_dev_operators(get_settings()) is None
