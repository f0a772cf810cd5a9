"""Server-rendered HTMX portals: self-serve (:9001) and CSR (:9002)."""
