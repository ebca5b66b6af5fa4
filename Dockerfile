# One image for every OSTEO AI process (web, workers, migrations).
# BASE selects CPU (python:3.11-slim) or GPU (tensorflow/tensorflow:2.20.0-gpu) builds;
# EXTRAS selects what is installed (the GPU build uses the "gpu" extra).
ARG BASE=python:3.11-slim
FROM ${BASE}

ARG EXTRAS=ml,reports,serve
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

# WeasyPrint needs Pango; fonts for readable PDFs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY screening screening
COPY worker worker
COPY web web
COPY training training
COPY migrations migrations
COPY models models
RUN pip install ".[${EXTRAS}]"

RUN useradd --system --create-home osteo && mkdir -p /app/var && chown osteo /app/var
USER osteo
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "web:create_app()"]
