"""Settings refuse placeholder tokens in production; the token registry maps tokens to surfaces."""

import pytest
from pydantic import ValidationError

from activities.customer import document_hash
from core.settings import DEV_KYC_PEPPER, PLACEHOLDER_TOKEN, Settings, get_settings
from domain.customer import DocumentType
from core.tokens import TOKEN_ENV_NAMES, TokenRegistry, ensure_dev_tokens


def test_production_refuses_placeholder_tokens():
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(env="production", api_token_cli=PLACEHOLDER_TOKEN)


def test_dev_tokens_are_generated_once_and_resolve_to_their_surface(tmp_path):
    path = tmp_path / "tokens.env"
    first = ensure_dev_tokens(path)
    assert ensure_dev_tokens(path) == first, "tokens must not change on a second make up"
    assert set(first) == set(TOKEN_ENV_NAMES)
    assert len(set(first.values())) == len(first)
    settings = Settings(**{f"api_token_{k}": v for k, v in {
        "cli": first["cli"], "self_serve": first["portal-self-serve"], "csr": first["portal-csr"],
        "agent": first["agent"], "system": first["system"]}.items()})
    registry = TokenRegistry.from_settings(settings)
    assert registry.credential_of(first["portal-csr"]).surface == "portal-csr"
    assert registry.credential_of(first["cli"][:-1]) is None
    assert registry.credential_of(None) is None


def test_embedded_urls_point_at_the_socket_in_home(tmp_path):
    settings = Settings(home=tmp_path)
    assert settings.sqlalchemy_url() == f"postgresql+asyncpg://postgres@/bss?host={tmp_path / 'pg'}"
    external = Settings(database_url="postgresql://u:p@db:5432/bss")
    assert external.sqlalchemy_url("other") == "postgresql+asyncpg://u:p@db:5432/other"
    assert not external.embedded_db


def test_production_refuses_time_skipping():
    strong = {f"api_token_{k}": f"strong-token-{k}-0123456789abcdef" for k in ("cli", "self_serve", "csr", "agent",
                                                                               "system")}
    strong["kyc_pepper"] = "a-production-pepper-0123456789abcdef"
    assert Settings(env="production", **strong).time_skipping is False
    with pytest.raises(ValidationError, match="time skipping"):
        Settings(env="production", time_skipping=True, **strong)
    assert Settings(env="dev", time_skipping=True).time_skipping


def test_production_refuses_the_dev_kyc_pepper():
    strong = {f"api_token_{k}": f"strong-token-{k}-0123456789abcdef" for k in ("cli", "self_serve", "csr", "agent",
                                                                               "system")}
    for weak in (DEV_KYC_PEPPER, "short"):
        with pytest.raises(ValidationError, match="KYC pepper"):
            Settings(env="production", kyc_pepper=weak, **strong)
    assert "pepper-in-logs" not in repr(Settings(env="production", kyc_pepper="no-pepper-in-logs-0123456789", **strong))


def test_kyc_document_hash_is_keyed_by_the_configured_pepper(monkeypatch):
    dev = document_hash(DocumentType.PASSPORT, "E1234567")
    monkeypatch.setenv("BSS_KYC_PEPPER", "another-pepper-0123456789abcdef")
    get_settings.cache_clear()
    try:
        assert document_hash(DocumentType.PASSPORT, "E1234567") != dev
    finally:
        monkeypatch.delenv("BSS_KYC_PEPPER")
        get_settings.cache_clear()
    assert document_hash(DocumentType.PASSPORT, "E1234567") == dev
