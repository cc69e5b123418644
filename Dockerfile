# Production image: `docker build -t pam .` then run with DATABASE_URL, REDIS_URL and SECRET_KEY.
# One image, four process roles chosen by the command (scripts/docker-entrypoint.sh): `web`
# (the default: migrate, then uvicorn), `sweeper`, `worker`, `beat`. compose.yaml runs them all.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PAM_ENV=production PAM_DATA_DIR=/tmp/pam
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN chmod 0755 scripts/docker-entrypoint.sh && useradd --system --uid 10001 pam
USER pam
EXPOSE 8000
ENV WORKERS=2
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
CMD ["web"]
