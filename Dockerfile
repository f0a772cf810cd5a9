# One image for every BSS process: the API (default command), the workers, the two portals and the
# one-shot jobs (`bss migrate`, `bss seed`). docker-compose.yml picks the command per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BSS_ENV=production \
    BSS_HOME=/var/lib/bss \
    BSS_HOST=0.0.0.0

# Runtime dependencies, pinned by the lock, in their own layer (rebuilt only when pyproject.toml or
# requirements.lock change). The lock also pins the dev extra (pytest, ruff, import-linter, ...):
# used as a *constraints* file it fixes every version without installing what the running
# processes never import, so the image carries no test tooling.
COPY pyproject.toml requirements.lock /tmp/deps/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/deps/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/deps/runtime.txt \
    && pip install --no-cache-dir -r /tmp/deps/runtime.txt -c /tmp/deps/requirements.lock \
    && pip check \
    && rm -rf /tmp/deps

# The project itself (dependencies are already in place). The source tree is only a build input:
# processes import the installed packages, never a checkout on the path. The operations handbook goes
# where the packages' REPO_ROOT points (site-packages), so `bss seed` loads it into the knowledge search.
COPY . /tmp/bss-src
WORKDIR /tmp/bss-src
RUN pip install --no-cache-dir --no-deps . \
    && install -D -m 0644 docs/HANDBOOK.md "$(python -c 'import core.settings as s; print(s.REPO_ROOT)')/docs/HANDBOOK.md" \
    && rm -rf /tmp/bss-src

# Non-root; BSS_HOME (pid/ready files, logs) is the only writable place the processes need.
RUN groupadd --system --gid 10001 bss \
    && useradd --system --uid 10001 --gid bss --home-dir /var/lib/bss --create-home \
        --shell /usr/sbin/nologin bss
USER bss
WORKDIR /var/lib/bss

# API, self-serve portal, CSR portal.
EXPOSE 8000 9001 9002

# BSS_ENV=production: the settings refuse to boot with placeholder API tokens, so every
# container needs the five BSS_API_TOKEN_* values from its environment.
CMD ["python", "-m", "apis.main"]
