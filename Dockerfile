# Armada service image: API + ingest worker (`start`), or one role, or `migrate`.
# The TypeScript runs through tsx (a runtime dependency), so there is no build step
# and TypeScript itself (a devDependency) is not installed.
#
#   docker build -t armada .
#   docker run --rm -p 3000:3000 -e DATABASE_URL=... -e MQTT_URL=... armada
#   docker run --rm -e DATABASE_URL=... armada node --import tsx src/cli.ts migrate
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000 \
    DATA_DIR=/app/data

WORKDIR /app

# Dependencies first: this layer is rebuilt only when package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

COPY tsconfig.json ./
COPY migrations/ ./migrations/
COPY simulator/ ./simulator/
COPY src/ ./src/
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
# reaches the program's graceful shutdown. `--import tsx` loads TypeScript.
CMD ["node", "--import", "tsx", "src/cli.ts", "start"]
