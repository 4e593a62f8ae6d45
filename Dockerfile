# mecrouter's container image (docs/deploy-aws.md; `make image` builds and runs it).
# Two stages on Debian 12: the first builds the release binary from Debian's packages, the
# second holds only that binary, the shared libraries it links (as ldd lists them) and the CA
# bundle, and runs it as an unprivileged user. The CDK app (deploy/aws) builds this file.
#
# BASE is the Debian 12 image to build on: `debian:12` from a registry, or a root file system
# made locally with debootstrap and imported under that name (scripts/image.sh does this).
ARG BASE=debian:12

FROM ${BASE} AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      g++ cmake make pkg-config ca-certificates \
      libboost1.81-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev \
      libssl-dev libsqlite3-dev libhiredis-dev prometheus-cpp-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY models models
COPY scenarios scenarios
# uPlot's files, which the dashboard embeds (scripts/setup.sh installs them with npm).
COPY dashboard dashboard
COPY src src
# One compile job by default: a Beast translation unit takes ~0.9 GB (DESIGN.md §7).
ARG JOBS=1
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMEC_TESTS=OFF -DMEC_BENCH=OFF \
 && cmake --build build -j "${JOBS}" --target mecrouter \
 && strip build/mecrouter
# The runtime: the binary, every library ldd resolves for it, the CA bundle, the data directory.
RUN mkdir -p /out/usr/local/bin /out/usr/lib/x86_64-linux-gnu /out/etc/ssl/certs /out/var/lib/mecrouter \
 && cp build/mecrouter /out/usr/local/bin/ \
 && ldd build/mecrouter | awk '$3 ~ /^\// {print $3}' | xargs -r cp -L -t /out/usr/lib/x86_64-linux-gnu/ \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

FROM ${BASE}
COPY --from=build /out/usr /usr
COPY --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=10001:10001 /out/var/lib/mecrouter /var/lib/mecrouter
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 10001:10001
WORKDIR /var/lib/mecrouter
VOLUME /var/lib/mecrouter
EXPOSE 8080
# /readyz over bash's /dev/tcp: no HTTP client in the image. 503 while draining. A container
# started with another --listen port says so in MECROUTER_HEALTH_PORT. (Docker's image format
# keeps HEALTHCHECK; the OCI format drops it: podman build --format docker.)
ENV MECROUTER_HEALTH_PORT=8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${MECROUTER_HEALTH_PORT} && printf 'GET /readyz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["mecrouter"]
# The embedded demo on all interfaces, without API keys (a loud warning; docs/security.md):
# deployments pass `serve --config FILE` with auth.keys_db.
CMD ["serve", "--listen", "0.0.0.0:8080", "--allow-anonymous"]
