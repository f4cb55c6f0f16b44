# syntax=docker/dockerfile:1.7
# Portal router node (sessions, tasks, miners over WebSocket). Build from the repository root:
#   docker build -f infra/docker/router.Dockerfile -t portal/router .
# It binds 0.0.0.0, so it refuses the dev secrets: set ROUTER_API_KEY and ROUTER_MINER_TOKEN.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out \
  && cp package.json package-lock.json /out/ \
  && find apps packages -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

FROM node:${NODE_VERSION}-bookworm-slim AS build
ENV SCARF_ANALYTICS=false
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs router

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ROUTER_HOST=0.0.0.0 \
    ROUTER_PORT=5010 \
    ROUTER_DATA_DIR=/var/lib/portal/router \
    LOG_LEVEL=info \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=prod-deps /app ./
COPY --from=build /app/apps/router/dist ./apps/router/dist
# An example sessions file; point ROUTER_CONFIG_FILE at a mounted one in production.
COPY --from=build /app/apps/router/router.config.example.json ./apps/router/
RUN mkdir -p /var/lib/portal/router && chown -R node:node /var/lib/portal
USER node
EXPOSE 5010
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ROUTER_PORT||5010)+'/livez',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "apps/router/dist/main.mjs"]
