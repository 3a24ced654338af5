# One image for every helpdesk service; docker-compose.yml picks the `helpdesk` sub-command.
#   docker build -t helpdesk .
#   docker run --rm helpdesk --help

# ---- build: install the package and its pinned dependencies into a virtualenv ----------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/helpdesk
WORKDIR /src
COPY pyproject.toml ./
COPY contracts ./contracts
COPY services ./services
RUN /opt/helpdesk/bin/pip install . \
    && /opt/helpdesk/bin/helpdesk --help >/dev/null

# ---- runtime: the virtualenv only, run as an unprivileged user -------------------------
FROM python:3.11-slim

RUN groupadd --system --gid 10001 helpdesk \
    && useradd --system --uid 10001 --gid helpdesk \
        --create-home --home-dir /home/helpdesk helpdesk \
    && mkdir -p /var/lib/helpdesk \
    && chown helpdesk:helpdesk /var/lib/helpdesk

COPY --from=build /opt/helpdesk /opt/helpdesk

# Listen on every interface inside the container (the settings default to loopback);
# keep local state (e.g. the email quarantine) on the data volume.
ENV PATH=/opt/helpdesk/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HELPDESK_HTTP_HOST=0.0.0.0 \
    HELPDESK_SMTP_HOST=0.0.0.0 \
    HELPDESK_DATA_DIR=/var/lib/helpdesk

USER helpdesk
WORKDIR /home/helpdesk
VOLUME ["/var/lib/helpdesk"]
EXPOSE 8000 2525 9100

ENTRYPOINT ["helpdesk"]
CMD ["--help"]
