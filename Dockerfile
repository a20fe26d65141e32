# krea-gateway: build with the Swift toolchain image, run on a slim Debian image.
# The build steps match .ci/run's (swift build), in release mode with a static Swift runtime.

FROM swift:6.3-bookworm AS build
# zlib and OpenSSL 3 for the HTTP core's gzip and TLS (as .ci/run installs them).
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g-dev=1:1.2.13* libssl-dev=3.0.* \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product krea-gateway --static-swift-stdlib \
    && install -D .build/release/krea-gateway /out/krea-gateway

FROM debian:bookworm-slim
# ca-certificates for HTTPS to providers and webhook receivers; curl for the health check; zlib
# and OpenSSL 3 for gzip and TLS (linked dynamically).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311* curl=7.88.* zlib1g=1:1.2.13* libssl3=3.0.* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/krea-gateway --shell /usr/sbin/nologin gateway \
    && install -d -o gateway -g gateway /var/lib/krea-gateway
COPY --from=build /out/krea-gateway /usr/local/bin/krea-gateway
COPY config/gateway.yaml /etc/krea-gateway/gateway.yaml
ENV GATEWAY_STATE_DIR=/var/lib/krea-gateway \
    GATEWAY_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/krea-gateway"]
USER 10001:10001
WORKDIR /var/lib/krea-gateway
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/krea-gateway"]
CMD ["serve", "--config", "/etc/krea-gateway/gateway.yaml"]
