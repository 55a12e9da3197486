# The daily job: `grabber push --config fleet.toml` (or one `grabber push REPOSITORY BRANCH`) with
# GITHUB_TOKEN and GRABBER_DATABASE_URL (or the original POSTGRES_* variables) in the
# environment, e.g.
#   docker run --rm -e GITHUB_TOKEN -e GRABBER_DATABASE_URL -v "$PWD/fleet.toml:/fleet.toml:ro" \
#       xfail-grabber push --config /fleet.toml
# deploy/kubernetes/cronjob.yaml runs it as a sharded Indexed Job (user 10001, read-only root).
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . /src
RUN pip install --no-cache-dir '/src[postgres]' && rm -rf /src

# A fixed, numeric non-root user: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN useradd --create-home --uid 10001 --user-group grabber \
    && mkdir /cache && chown 10001:10001 /cache
ENV GRABBER_CACHE_DIR=/cache
USER 10001:10001
WORKDIR /home/grabber

ENTRYPOINT ["grabber"]
CMD ["--help"]
