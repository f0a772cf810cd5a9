"""FastAPI TMF facades: one module per TMF API, the app factory, the token perimeter, error mapping."""
