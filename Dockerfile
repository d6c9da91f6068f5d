# syntax=docker/dockerfile:1
# The kload image for distributed runs (docs/distributed.md): `kload k8s` generates Jobs
# that run it with `run ... --segment auto`. Build and push it with
#
#   docker build -t registry.example.com/kload:0.1.0 .
#   docker push registry.example.com/kload:0.1.0
#
# and pass the same reference to `kload k8s --image`. Pin a version tag: every pod of a run
# must run the same kload, and `kload merge` refuses results of different versions.

# Build with the toolchain the project is developed and tested with (Rust 1.95; the
# crate's minimum is rust-version in Cargo.toml), on the Debian release the image runs on.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The caches keep the crate registry and build folder between builds on one machine.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kload \
    && install -m 0755 target/release/kload /usr/local/bin/kload

FROM debian:bookworm-slim
# ca-certificates: kload verifies HTTPS targets against the system's roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/kload /usr/local/bin/kload
# A numeric non-root user: the generated pods set runAsNonRoot and runAsUser 10001.
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["kload"]
CMD ["--help"]
