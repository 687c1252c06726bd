# armsbot: the Discord bot, with its knowledge base on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ARMSBOT_DATABASE=/data/armsbot.sqlite3

RUN useradd --create-home --uid 10001 armsbot \
    && mkdir /data && chown armsbot:armsbot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY data ./data
COPY commands ./commands
# These two steps are what .ci/install-check runs in a fresh virtual environment.
RUN python -m pip install --upgrade pip \
    && python -m pip install /app \
    && rm -rf /app

USER armsbot
WORKDIR /home/armsbot
VOLUME ["/data"]

# Healthy when the knowledge base opens and passes its integrity check.
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["armsbot", "db", "check"]

ENTRYPOINT ["armsbot"]
CMD ["run"]
