# The portal-mock image: the static binary that goreleaser builds, alone on
# scratch, run as an unprivileged user. The build context holds the binary
# as portal-mock, as goreleaser's docker step lays it out; by hand:
#
#   CGO_ENABLED=0 go build -o ctx/portal-mock ./cmd/portal-mock
#   podman build -f Dockerfile -t portal-mock ctx
#
# Flags after the image name go to portal-mock: -host portal-mock for a CI
# service of that name, say, or -tls -tls-host portal-mock -tls-cert-out
# /certs/portal-mock.pem with a volume at /certs.
FROM scratch
USER 65532:65532
# The working directory, /certs, belongs to the mock's user, as does a new
# volume mounted there, for -tls-cert-out to write in.
WORKDIR /certs
COPY --chown=65532:65532 portal-mock /portal-mock
EXPOSE 8484
ENTRYPOINT ["/portal-mock", "-addr", "0.0.0.0:8484"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=1s --retries=15 CMD ["/portal-mock", "-healthcheck"]
