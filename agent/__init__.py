"""The LLM agent: typed tools over the HTTP API, profiles, the agent loop and its safety rails."""
