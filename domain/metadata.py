"""The shared SQLAlchemy MetaData; every schema's tables register on it."""

from sqlalchemy import MetaData

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

SCHEMAS = (
    "audit", "catalog", "crm", "inventory", "payment", "ordering",
    "service_inventory", "provisioning", "subscription", "mediation", "billing", "agent", "portal",
)
