# syntax=docker/dockerfile:1
#
# orchestrator-mcp: build with dev dependencies, run with production ones only.
#
#   docker build -t orchestrator-mcp:0.1.0 .
#   docker run --rm -p 3000:3000 orchestrator-mcp:0.1.0      # the demo, as `npm start` runs it
#
# Mount points (docs/deployment.md):
#   /etc/orchestrator-mcp/registry/   REGISTRY_PATH's directory (mcp-registry.json): mount a directory,
#                                     never the single file, so edits and ConfigMap swaps are seen
#   /etc/orchestrator-mcp/workflows/  WORKFLOWS_DIR, hot reloaded
#   /var/lib/orchestrator-mcp/        SQLite data (DATABASE_URL default); a volume
#
# Every stage starts from the same pinned image, so the native module of better-sqlite3
# compiled in `prod-deps` runs on the same libc and architecture in `runtime`.

FROM node:24.20.0-bookworm-slim AS base
WORKDIR /app

# python3, make and g++ build better-sqlite3's native module (node-gyp).
FROM base AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*

# Compile TypeScript, and build the operator console (Vite) into dist/ui. Install scripts are
# skipped: neither tsc nor Vite needs a native module built.
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
RUN npm run build

# Production dependencies only, better-sqlite3 compiled here from source against the
# image's own Node headers (no prebuilt binary is downloaded). The package's `prepare` finds
# no console sources here and builds nothing: the console comes built from `build`.
FROM toolchain AS prod-deps
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# npm ci runs the package's `prepare` hook, which skips the console build here (no vite).
COPY scripts/prepare.mjs ./scripts/
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM base AS runtime
# tini is PID 1: it forwards SIGTERM to node (which drains, see SHUTDOWN_TIMEOUT) and reaps
# the stdio MCP servers node starts. Not `tini -g`: stdio servers must outlive the drain.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
LABEL org.opencontainers.image.title="orchestrator-mcp" \
      org.opencontainers.image.description="Orchestration server for MCP services" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    REGISTRY_PATH=/etc/orchestrator-mcp/registry/mcp-registry.json \
    WORKFLOWS_DIR=/etc/orchestrator-mcp/workflows \
    DATABASE_URL=sqlite:/var/lib/orchestrator-mcp/orchestrator.db
# Code and defaults stay owned by root: the server cannot rewrite itself.
COPY --from=prod-deps /app/node_modules ./node_modules
# The compiled server and the built console (dist/ui, served at /ui).
COPY --from=build /app/dist ./dist
COPY package.json ./
# The demo MCP servers (their dependencies are production ones) and a default configuration
# that runs them over stdio; mount your own registry and workflows over these directories.
COPY demo ./demo
COPY mcp-registry.json /etc/orchestrator-mcp/registry/mcp-registry.json
COPY workflows /etc/orchestrator-mcp/workflows
RUN mkdir -p /var/lib/orchestrator-mcp && chown node:node /var/lib/orchestrator-mcp
VOLUME ["/var/lib/orchestrator-mcp"]
USER node
EXPOSE 3000
# Liveness. The slim image has no curl: Node's fetch, on the port the server reads.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
