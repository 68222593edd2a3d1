# busline container image: one binary, one role per Deployment (k8s/).
#   docker build -t busline:0.1.0 .
# Build stage: Debian bookworm with the -dev packages, cmake build without
# sanitizers, tests not run here (CI runs them against real Kafka/Postgres).
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libpq-dev libavro-dev libcurl4-openssl-dev libssl-dev \
      libmicrohttpd-dev libjansson-dev libjwt-dev libmagic-dev libcairo2-dev libpango1.0-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/build-release /build --target busline

# Runtime stage: only the shared libraries the binary links against.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libpq5 libavro23 libcurl4 libssl3 libmicrohttpd12 libjansson4 libjwt0 libmagic1 libmagic-mgc \
      libcairo2 libpangocairo-1.0-0 fonts-dejavu-core ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 busline \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin busline
COPY --from=build /build/busline /usr/local/bin/busline
COPY schemas/ /usr/share/busline/schemas/
COPY migrations/ /usr/share/busline/migrations/
COPY api/console/web/ /usr/share/busline/console/
ENV BUSLINE_SCHEMAS_DIR=/usr/share/busline/schemas \
    BUSLINE_MIGRATIONS_DIR=/usr/share/busline/migrations \
    BUSLINE_CONSOLE_DIR=/usr/share/busline/console \
    BUSLINE_API_HOST=0.0.0.0 \
    BUSLINE_REGISTRY_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8080 8081 9464
ENTRYPOINT ["busline"]
