"""Import every domain module so the shared MetaData knows the whole schema."""

import importlib
import pkgutil

import domain

for _info in sorted(pkgutil.iter_modules(domain.__path__), key=lambda m: m.name):
    if _info.name != "tables":
        importlib.import_module(f"domain.{_info.name}")
