# taskbot's image: Node.js 24 on Debian bookworm slim, built in two stages.
#   DOCKER_BUILDKIT=1 docker build -t taskbot .
# Without Docker Hub, build the base first: scripts/build-base-image.sh (README → Install).
# Behind a TLS-inspecting proxy, hand the build its CA as a secret (never a layer):
#   DOCKER_BUILDKIT=1 docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t taskbot .
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source against the runtime's own headers (include/node).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export npm_config_cafile=/run/secrets/ca NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --no-audit --no-fund --ignore-scripts=false
COPY tsconfig.json ./
COPY src src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* node_modules/better-sqlite3/build/Release/.deps

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000 \
    DATABASE_URL=sqlite:/app/data/taskbot.db
WORKDIR /app
RUN groupadd --gid 10001 taskbot \
 && useradd --uid 10001 --gid taskbot --home-dir /app --no-create-home --shell /usr/sbin/nologin taskbot \
 && mkdir -p /app/data && chown taskbot:taskbot /app/data
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist/src dist/src
COPY package.json ./
COPY cards cards
COPY console console
USER 10001:10001
VOLUME /app/data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains within 8 s and exits 0 (docker stop waits 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
