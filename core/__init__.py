"""Core: settings, database, clock, errors, request context, tokens, Temporal client, telemetry."""
