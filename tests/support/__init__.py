"""Test support: embedded PostgreSQL, Temporal time-skipping env, in-process HTTP servers."""
