# The issuer as an image: built with the current stable toolchain, run on Debian slim.
# Templates and migrations are compiled into the binary.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin domino-idp

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/domino-idp --create-home domino-idp
COPY --from=build /src/target/release/domino-idp /usr/local/bin/domino-idp
USER domino-idp
WORKDIR /var/lib/domino-idp
ENV DOMINO_IDP_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["domino-idp"]
CMD ["serve"]
