"""API process entry point: `python -m apis.main` (uvicorn, uvloop, httptools)."""

from __future__ import annotations

import uvicorn

from core.settings import get_settings


def main() -> None:
    """Serve the API on the configured host and port."""
    settings = get_settings()
    uvicorn.run("apis.app:create_app", factory=True, host=settings.host, port=settings.api_port,
                loop="uvloop", http="httptools", ws="none", log_level=settings.log_level.lower(),
                access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
