# syntax=docker/dockerfile:1
#
# pamscim as a container: one static binary (CGO_ENABLED=0; the SQLite driver
# is pure Go) on an empty base image, running as a non-root user, writing only
# to /data. Run it with a read-only root filesystem:
#
#   docker run --read-only --tmpfs /tmp -v pamscim-data:/data -p 8080:8080 pamscim
#
# Two final stages:
#   default          builds from source in the Go image ($GO_IMAGE, a mirror may be named)
#   --target prebuilt  copies dist/ from `make release`: pulls no image at all

ARG GO_IMAGE=golang:1.26

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# The same line as `make build` / `make release`.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/pamscim ./cmd/pamscim \
 && mkdir -p /out/data /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/ca-certificates.crt

FROM scratch AS image
COPY --from=build /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/pamscim /usr/local/bin/pamscim
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/tmp /tmp
USER 65532:65532
ENV PAMSCIM_DATA=/data PAMSCIM_LISTEN=0.0.0.0:8080 PAMSCIM_LOG_FORMAT=json TMPDIR=/tmp
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pamscim"]
CMD ["serve"]

FROM scratch AS prebuilt
ARG VERSION=dev
ARG TARGETARCH=amd64
COPY dist/pamscim-${VERSION}-linux-${TARGETARCH} /usr/local/bin/pamscim
COPY --chown=65532:65532 packaging/rootfs/ /
USER 65532:65532
ENV PAMSCIM_DATA=/data PAMSCIM_LISTEN=0.0.0.0:8080 PAMSCIM_LOG_FORMAT=json TMPDIR=/tmp
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pamscim"]
CMD ["serve"]

# The default target is the last stage named here.
FROM image
