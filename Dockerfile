# dpcetl container image: a static binary on an empty base, run as a non-root user.
#
#   Standard build (needs the golang base image from a registry):
#     docker build -t dpcetl:$(git describe --always) --build-arg VERSION=$(git describe --always --dirty) .
#   Offline build (this project's `make image`): the binary is built with the local Go toolchain
#   into .image/ and the `prebuilt` target only copies it, so nothing is pulled:
#     podman build --target prebuilt -t dpcetl .
#
# Both final stages are FROM scratch: no shell, no package manager, nothing but the binary,
# CA certificates (DPC and S3 are HTTPS) and a writable working directory for the state.

ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/dpcetl/dpcetl/pipelines/cli.Version=${VERSION}" \
      -o /rootfs/dpcetl ./cmd/dpcetl \
 && mkdir -p /rootfs/etc/ssl/certs /rootfs/work /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && printf 'dpcetl:x:65532:65532:dpcetl:/work:/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'dpcetl:x:65532:\n' > /rootfs/etc/group

# The release image, from the build stage above.
FROM scratch AS release
COPY --from=build /rootfs/etc /etc
COPY --from=build /rootfs/dpcetl /dpcetl
COPY --from=build --chown=65532:65532 /rootfs/work /work
COPY --from=build --chown=65532:65532 /rootfs/tmp /tmp
USER 65532:65532
WORKDIR /work
ENV HOME=/work TMPDIR=/tmp
ENTRYPOINT ["/dpcetl"]
CMD ["--help"]

# The same image from a root filesystem prepared by `make image` (no registry needed).
FROM scratch AS prebuilt
COPY .image/rootfs/etc /etc
COPY .image/rootfs/dpcetl /dpcetl
COPY --chown=65532:65532 .image/rootfs/work /work
COPY --chown=65532:65532 .image/rootfs/tmp /tmp
USER 65532:65532
WORKDIR /work
ENV HOME=/work TMPDIR=/tmp
ENTRYPOINT ["/dpcetl"]
CMD ["--help"]

# `docker build .` with no --target gives the release image.
FROM release
