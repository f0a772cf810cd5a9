"""Policy layer: pure write guards returning violations with stable dotted rule codes."""
