# Production image: `docker build -t pam .` then run with DATABASE_URL, REDIS_URL and SECRET_KEY.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PAM_ENV=production PAM_DATA_DIR=/tmp/pam
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 pam
USER pam
EXPOSE 8000
ENV WORKERS=2
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn pam.asgi:application --host 0.0.0.0 --port 8000 --workers ${WORKERS} --lifespan off --no-access-log"]
