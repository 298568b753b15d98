# The tracing-operator image. Built elsewhere (the project's machines run no container engine):
#   docker build -t ghcr.io/tracing-operator/tracing-operator:0.1 .
# tests/helm/dockerfile_test.py lints this file with hadolint, checks that the build stage
# installs exactly scripts/build's packages and that the runtime stage installs exactly the
# Debian packages of the shared libraries `ldd build/bin/tracing-operator` lists, plus
# ca-certificates.

# Build on the Debian release the project builds and tests on, with scripts/build's packages.
FROM debian:bookworm AS build
# Versions come from the bookworm release the tag names; pinning each package's point-release
# version would break the build at every Debian point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ make pkg-config curl python3 python3-venv \
      libcpprest-dev libboost-system-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev \
      libssl-dev libgtest-dev libgmock-dev clang-format \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# scripts/build's default build type; only the operator target, stripped.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build --target tracing-operator \
 && strip /build/bin/tracing-operator

# Run on the slim image: the binary, the shared libraries it links, CA certificates, nothing else.
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libbrotli1 libc6 libcpprest2.10 libfmt9 libgcc-s1 libspdlog1.10 libssl3 libstdc++6 \
      libyaml-cpp0.7 zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/tracing-operator /usr/local/bin/tracing-operator
LABEL org.opencontainers.image.title="tracing-operator" \
      org.opencontainers.image.description="Rolls distributed tracing out across Kubernetes workloads from one TracingPolicy"
# The chart's Pod securityContext runs it as 65532 too (Pod Security "restricted").
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tracing-operator"]
