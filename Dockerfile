# syntax=docker/dockerfile:1
#
# One image for every Muster process; the command picks the binary:
#   docker run muster planner | launcher | poller | notifier | drs-sim
# (docker-compose.yml and deploy/kubernetes/ do exactly that).
#
# Stages:
#   librdkafka  builds librdkafka >= 2.1 from a pinned, checksummed source tarball
#   build       compiles the Swift products, Swift runtime linked statically
#   runtime     debian:bookworm-slim + the shared C libraries + the binaries, non-root
#   demo        runtime + jq + scripts/, for `docker compose up` (the one-shot demo)
#
# Build: docker build -t muster .            (BuildKit; caches SwiftPM and .build)

# The Swift toolchain image. Muster is developed with Swift 6.3 (6.3.1); the
# official swift:6.3-bookworm image (Debian 12, same as the runtime stage) is
# the matching one. Package.swift declares tools 6.1, so swift:6.2-bookworm
# also parses the manifest, but only 6.3 is what the code is compiled with day
# to day: override with --build-arg SWIFT_IMAGE=... at your own risk.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------
# librdkafka >= 2.1
#
# Muster compiles against Debian 12's librdkafka-dev 2.0.2 headers (only that
# API is used) but must *run* with >= 2.1: 2.0.2 fails the ApiVersion exchange
# with some brokers and hangs, and every service refuses to start below 2.1
# (KafkaLibrary.checkVersion). Options considered:
#   - bookworm-backports: has no librdkafka at all (checked with apt-cache);
#   - Debian 13 (trixie) binary packages: built against trixie's libc/libssl3t64,
#     not installable on bookworm;
#   - the manylinux librdkafka inside the confluent-kafka PyPI wheel (what
#     scripts/setup.sh uses for local tests): works, but it statically embeds
#     its own OpenSSL, so TLS fixes would not arrive with Debian's security
#     updates of libssl3 — not what a production image should ship;
#   - build it from source here (chosen): a pinned release tarball verified by
#     SHA-256, linked against bookworm's own libssl3, zlib, zstd and libcurl
#     (all kept patched by Debian), installed as /usr/local/lib/librdkafka.so.1,
#     which is the SONAME the Swift binaries link against.
# The tarball is librdkafka 2.8.0 exactly as upstream released it (top folder
# librdkafka-2.8.0/), fetched from Debian's archive, where it is the orig
# tarball of trixie's librdkafka 2.8.0-1; its SHA-256 below is the one in
# trixie's signed Sources index. To use another mirror (e.g. the confluentinc
# GitHub release tarball) or version, pass LIBRDKAFKA_URL / LIBRDKAFKA_SHA256 /
# LIBRDKAFKA_VERSION together.
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS librdkafka
ARG LIBRDKAFKA_VERSION=2.8.0
ARG LIBRDKAFKA_URL=https://deb.debian.org/debian/pool/main/libr/librdkafka/librdkafka_2.8.0.orig.tar.gz
ARG LIBRDKAFKA_SHA256=5bd1c46f63265f31c6bfcedcde78703f77d28238eadf23821c2b43fc30be3e25
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
         ca-certificates curl build-essential pkg-config python3 \
         libssl-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN curl -fsSL "$LIBRDKAFKA_URL" -o librdkafka.tar.gz \
    && echo "$LIBRDKAFKA_SHA256  librdkafka.tar.gz" | sha256sum -c - \
    && tar xzf librdkafka.tar.gz \
    && cd "librdkafka-$LIBRDKAFKA_VERSION" \
    # --no-download: mklove must not fetch anything; lz4 and snappy are bundled,
    # the rest comes from the Debian -dev packages above (dynamically linked).
    && ./configure --prefix=/usr/local --no-download --enable-strip --disable-debug-symbols \
    && make -C src -j"$(nproc)" \
    && make -C src install DESTDIR=/out \
    && ls -l /out/usr/local/lib/librdkafka.so*

# ---------------------------------------------------------------------------
# Swift build
# ---------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends librdkafka-dev libpq-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, so source edits do not re-resolve them. Package.resolved
# (git-ignored, but present in a developer's tree) pins exact versions when it
# is there.
COPY Package.swift Package.resolve[d] ./
RUN --mount=type=cache,target=/src/.build,id=muster-swiftpm \
    swift package resolve $([ -f Package.resolved ] && echo --force-resolved-versions)

# Everything else (Shared, Services, Tools, Tests, Benchmarks …): SwiftPM
# checks every target's folder, test and benchmark targets included, even when
# building one product. .dockerignore keeps .build, .local and .git out.
COPY . .

# The five service products and the `muster` CLI (when Package.swift has it),
# Swift runtime and Foundation linked statically: the runtime image needs no
# Swift toolchain. swift-backtrace-static is copied so crashes print symbolicated
# backtraces (SWIFT_BACKTRACE in the runtime stage).
ARG PRODUCTS="planner launcher poller notifier drs-sim"
RUN --mount=type=cache,target=/src/.build,id=muster-swiftpm \
    set -eu; \
    products="$PRODUCTS"; \
    if grep -q '\.executable(name: "muster"' Package.swift; then products="$products muster"; fi; \
    for product in $products; do \
      swift build -c release --static-swift-stdlib -Xswiftc -Osize --product "$product"; \
    done; \
    bin="$(swift build -c release --static-swift-stdlib -Xswiftc -Osize --show-bin-path)"; \
    mkdir -p /out/bin; \
    for product in $products; do install -m 0755 "$bin/$product" /out/bin/; done; \
    backtrace="$(dirname "$(readlink -f "$(command -v swift)")")/../libexec/swift/linux/swift-backtrace-static"; \
    if [ -x "$backtrace" ]; then install -m 0755 "$backtrace" /out/bin/swift-backtrace-static; fi; \
    ls -l /out/bin

# ---------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# libpq5, libcurl4 and the libraries librdkafka links against; curl for the
# container health checks; tzdata for time zones; ca-certificates for TLS to
# AWS, Kafka and webhook endpoints. Debian's librdkafka1 (2.0.2) is *not*
# installed: the one from the librdkafka stage is the only copy.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
         ca-certificates curl libcurl4 libpq5 libssl3 zlib1g libzstd1 tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=librdkafka /out/usr/local/lib/librdkafka.so.1 /usr/local/lib/librdkafka.so.1
COPY --from=build /out/bin/ /usr/local/bin/
# Fail the build, not the first start, if a shared library is missing.
RUN ldconfig \
    && for f in /usr/local/lib/librdkafka.so.1 /usr/local/bin/*; do \
         if ldd "$f" 2>&1 | grep -q 'not found'; then echo "missing libraries for $f:"; ldd "$f"; exit 1; fi; \
       done \
    && ldd /usr/local/bin/launcher | grep -q '/usr/local/lib/librdkafka.so.1'

RUN groupadd --system --gid 10001 muster \
    && useradd --system --uid 10001 --gid muster --home-dir /nonexistent --shell /usr/sbin/nologin muster
USER 10001:10001
WORKDIR /tmp
ENV MUSTER_HTTP_HOST=0.0.0.0 \
    MUSTER_LOG_FORMAT=json \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static
# Ports by service: planner 8080, launcher 8081, poller 8082, notifier 8083, drs-sim 8089.
EXPOSE 8080 8081 8082 8083 8089
# No ENTRYPOINT: the command is the binary (and its arguments).
CMD ["planner"]

# ---------------------------------------------------------------------------
# Demo (docker-compose.yml's one-shot `demo` service): the runtime image plus
# jq and the scripts, running scripts/demo.sh against the compose stack.
# ---------------------------------------------------------------------------
FROM runtime AS demo
USER root
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends jq \
    && rm -rf /var/lib/apt/lists/*
COPY scripts /opt/muster/scripts
COPY deploy/demo /opt/muster/deploy/demo
USER 10001:10001
WORKDIR /opt/muster
# The muster CLI keeps its configuration under $HOME; the user has no home.
ENV HOME=/tmp
CMD ["bash", "scripts/demo.sh"]

# The default target is the runtime image.
FROM runtime
