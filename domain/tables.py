"""Import every table module so the shared MetaData knows the whole schema."""

from domain import audit  # noqa: F401
