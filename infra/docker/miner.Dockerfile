# syntax=docker/dockerfile:1.7
# Portal miner: dials a router's /ws/miners and runs the demo engine or an OpenAI-compatible
# server (vLLM, llama.cpp server, Ollama). Build from the repository root:
#   docker build -f infra/docker/miner.Dockerfile -t portal/miner .
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
RUN node scripts/build.mjs miner

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MINER_ROUTER_URL=ws://router:5010/ws/miners \
    MINER_ENGINE=demo \
    MINER_MODELS=demo \
    MINER_CAPACITY=1 \
    LOG_LEVEL=info \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=prod-deps /app ./
COPY --from=build /app/apps/miner/dist ./apps/miner/dist
USER node
# No EXPOSE and no HTTP probe: a miner listens on nothing, it only dials its router. It
# reconnects with backoff on its own, and the router drops a miner that stops heart-beating, so
# the container's liveness is the process itself (restart policy on exit).
HEALTHCHECK NONE
STOPSIGNAL SIGTERM
CMD ["node", "apps/miner/dist/main.mjs"]
