# The daily job: `grabber push REPOSITORY BRANCH` with GITHUB_TOKEN and GRABBER_DATABASE_URL
# (or the original POSTGRES_* variables) in the environment, e.g.
#   docker run --rm -e GITHUB_TOKEN -e GRABBER_DATABASE_URL xfail-grabber \
#       push https://github.com/org/repo main
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . /src
RUN pip install --no-cache-dir '/src[postgres]' && rm -rf /src

RUN useradd --create-home grabber
USER grabber
WORKDIR /home/grabber

ENTRYPOINT ["grabber"]
CMD ["--help"]
