# mtoctl as an OCI image: the static binary (x86_64-unknown-linux-musl) on an empty base.
#
#   docker build -t mtoctl .
#   docker run --rm -v "$PWD:/work" --user "$(id -u):$(id -g)" mtoctl plan -f mto.yaml
#
# The build stage runs .ci/static-binary, the script CI runs (CI with `--profile static-check`,
# this with the shipped profile `dist`): it builds the binary, checks that it is static and that
# it works (validate on the examples, the quickstart against the embedded emulator), and lays
# out the image's files in /rootfs: the binary, the CA bundle that https to Microsoft Entra and
# Graph needs, /etc/passwd with the non-root user 65532, /tmp and /work. It also runs those
# checks inside /rootfs as that user (chroot), so the build needs Docker's default capabilities.
# CI has no container engine and never builds this image (docs/install.md). linux/amd64 only.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN bash .ci/static-binary --profile dist --rootfs /rootfs

# No shell, no package manager, no libc: the binary, its CA bundle and a user.
FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /work
ENV HOME=/home/nonroot
ENTRYPOINT ["/usr/local/bin/mtoctl"]
CMD ["--help"]
