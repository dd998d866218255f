# Armada service image: API + ingest worker (`start`), or one role, or `migrate`.
# Two stages: the first compiles the TypeScript (`npm run build`, into dist/); the
# second holds only that JavaScript and the production dependencies. Compiled code
# starts faster and uses ~35 MB less memory than running the sources through tsx.
#
#   docker build -t armada .
#   docker run --rm -p 3000:3000 -e DATABASE_URL=... -e MQTT_URL=... armada
#   docker run --rm -e DATABASE_URL=... armada node dist/src/cli.js migrate
#
# Run it with a restart policy (docker-compose.yml has `restart: unless-stopped`), so a
# crash or a kill brings it back unattended. Without DATABASE_URL it keeps PGlite in
# /app/data: give that a volume, and run one container per volume (a second one on the
# same host refuses to start; docs/embedded-mode.md):
#   docker run -d --restart unless-stopped -v armada-data:/app/data -p 3000:3000 armada
FROM node:20-bookworm-slim AS build

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
COPY simulator/ ./simulator/
COPY demo/ ./demo/
RUN npm run build

FROM node:20-bookworm-slim

# NODE_OPTIONS caps V8's old generation. Without a cap, V8 sizes the heap from the
# machine's memory (up to 4 GB) and lets garbage pile up: the ingest worker peaked at
# ~240 MB for 10,000 devices with no cap, ~165 MB with this one, at the same CPU per
# message (BENCHMARKS.md). Raise it for an API serving very large reports.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=512 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000 \
    DATA_DIR=/app/data

WORKDIR /app

# Dependencies first: this layer is rebuilt only when package*.json change.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

COPY --from=build /app/dist/ ./dist/
COPY migrations/ ./migrations/
COPY web/ ./web/

# DATA_DIR is used only without DATABASE_URL / MQTT_URL (embedded PGlite and
# broker); it must be writable by the unprivileged user.
RUN mkdir -p /app/data && chown node:node /app/data

USER node

EXPOSE 3000

# Liveness only (/healthz); docker-compose.yml checks readiness (/readyz).
# No curl in the slim image: Node's fetch does it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Node itself is PID 1 (no npm or shell in between), so SIGTERM from `docker stop`
# reaches the program's graceful shutdown.
CMD ["node", "dist/src/cli.js", "start"]
