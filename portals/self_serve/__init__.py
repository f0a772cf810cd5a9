"""Self-serve portal (:9001): customers browse plans, sign up and manage their line."""
