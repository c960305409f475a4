# Pommel server image: the API, dashboard, GraphiQL and /mcp on port 8000.
# Build: docker build -t pommel .   Run: docker run -p 8000:8000 -v pommel-data:/data pommel
# Steps run on a Dagger engine when one is reachable (set _EXPERIMENTAL_DAGGER_RUNNER_HOST or
# mount a dagger CLI); otherwise on the local executor inside this container.

FROM node:20-bookworm-slim AS dashboard
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund
COPY frontend frontend
COPY schema schema
RUN mkdir -p backend/pommel/web/static && cd frontend && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    POMMEL_DATABASE_URL=sqlite:////data/pommel.sqlite \
    POMMEL_WORK_DIR=/data/work
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend backend
COPY templates templates
COPY config config
COPY schema schema
COPY --from=dashboard /src/backend/pommel/web/static backend/pommel/web/static
RUN pip install --no-cache-dir -e . && useradd --create-home pommel && mkdir -p /data \
    && chown pommel /data
USER pommel
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["pommel", "serve", "--host", "0.0.0.0", "--port", "8000"]
