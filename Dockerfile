# The portal-mock image: the static binary that goreleaser builds, alone on
# scratch, run as an unprivileged user. The build context holds the binary
# of each platform at $TARGETPLATFORM/portal-mock, as goreleaser's docker
# step (dockers_v2) lays it out; by hand:
#
#   CGO_ENABLED=0 go build -o ctx/linux/amd64/portal-mock ./cmd/portal-mock
#   podman build --platform linux/amd64 -f Dockerfile -t portal-mock ctx
#
# Flags after the image name go to portal-mock: -host portal-mock for a CI
# service of that name; add -tls -tls-cert-out /certs/portal-mock.pem, with a
# volume at /certs, for an SDK that takes HTTPS only.
FROM scratch
ARG TARGETPLATFORM
USER 65532:65532
# The working directory, /certs, belongs to the mock's user, as does a new
# volume mounted there, for -tls-cert-out to write in.
WORKDIR /certs
COPY --chown=65532:65532 $TARGETPLATFORM/portal-mock /portal-mock
EXPOSE 8484
ENTRYPOINT ["/portal-mock", "-addr", "0.0.0.0:8484"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=1s --retries=15 CMD ["/portal-mock", "-healthcheck"]
