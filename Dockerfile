# The portal's image: web (gunicorn), Celery worker and Celery beat all run
# from it, with different commands (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=igpm.settings.production

# WeasyPrint renders PDFs with Pango; fonts are installed, never fetched.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .
# collectstatic needs the production settings to import; these values exist
# only for this build step.
RUN DJANGO_SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    DJANGO_ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://build:6379/0 EMAIL_URL=consolemail:// \
    SITE_URL=https://build.invalid STRIPE_SECRET_KEY=build STRIPE_WEBHOOK_SECRET=build \
    IGPM_BANK_ACCOUNT_NAME=build IGPM_BANK_SORT_CODE=build IGPM_BANK_ACCOUNT_NUMBER=build \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 igpm \
    && mkdir -p /srv/igpm/private /srv/igpm/beat \
    && chown -R igpm:igpm /srv/igpm
USER igpm

EXPOSE 8000
# Workers, time-outs, request limits and trusted proxies: gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
