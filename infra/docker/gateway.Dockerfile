# syntax=docker/dockerfile:1.7
# Portal gateway. Build from the repository root:
#   docker build -f infra/docker/gateway.Dockerfile -t portal/gateway .
# Run (production mode needs the secrets; migrations apply at start under an advisory lock):
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://… -e REDIS_URL=redis://… \
#     -e PORTAL_ENCRYPTION_KEY=… -e PORTAL_SESSION_SECRET=… portal/gateway
ARG NODE_VERSION=20

# Only the lockfile and every workspace's package.json, so the `npm ci` layers below stay cached
# until dependencies change (COPY --from compares content, not the stage that produced it).
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out \
  && cp package.json package-lock.json /out/ \
  && find apps packages -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

# Full install (esbuild, vite), then the gateway bundle and the web app it serves.
FROM node:${NODE_VERSION}-bookworm-slim AS build
ENV SCARF_ANALYTICS=false
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs gateway \
  && npm run build --workspace @portal/web

# Production dependencies only: the bundle keeps third-party packages external.
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    EMBEDDED_ROUTERS=0 \
    PORTAL_DATA_DIR=/var/lib/portal \
    PORTAL_WEB_DIR=/app/apps/portal/dist \
    SHUTDOWN_TIMEOUT_MS=20000 \
    SHUTDOWN_DELAY_MS=0 \
    LOG_LEVEL=info \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# node_modules (root and nested per workspace) plus the manifests; owned by root, read-only to the app.
COPY --from=prod-deps /app ./
COPY --from=build /app/migrations ./migrations
# The bundle must stay at apps/gateway/dist: it resolves ../../../migrations from there.
COPY --from=build /app/apps/gateway/dist ./apps/gateway/dist
COPY --from=build /app/apps/portal/dist ./apps/portal/dist
RUN mkdir -p /var/lib/portal && chown node:node /var/lib/portal
USER node
EXPOSE 8080
# Liveness only (no dependencies); orchestrators use /readyz for traffic.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/livez',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The operator CLI ships in the same image: docker run … portal/gateway node apps/gateway/dist/cli.mjs --help
# The gateway drains on SIGTERM within SHUTDOWN_TIMEOUT_MS; give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
CMD ["node", "apps/gateway/dist/main.mjs"]
