# convo-sidecar: the webhook intake process.
#
#   docker build -f docker/sidecar.Dockerfile -t convo-sidecar .      (from the repository root)
#
# Configuration is by environment only (README, "Sidecar"); secrets are best given as files
# (CONVO_SIDECAR_SECRETS_FILE or the *_FILE variables) mounted as Docker secrets.
FROM debian:bookworm AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        cmake make g++ pkg-config libboost-dev libssl-dev libpq-dev nlohmann-json3-dev \
        libspdlog-dev libgtest-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY CMakeLists.txt ./
COPY extension ./extension
COPY sidecar ./sidecar
COPY tests ./tests
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j"$(nproc)" --target convo-sidecar


FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libssl3 libspdlog1.10 libfmt9 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin convo

COPY --from=build /src/build/sidecar/convo-sidecar /usr/local/bin/convo-sidecar

USER convo
ENV CONVO_SIDECAR_LISTEN=0.0.0.0:8080
EXPOSE 8080
# SIGTERM: stop accepting, finish requests and the current ingest batch, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/convo-sidecar"]
