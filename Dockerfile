# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with dev dependencies, then ship only the compiled code
# and production dependencies on a slim Node LTS base, running as a non-root user.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY cmd ./cmd
COPY loadtest ./loadtest
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HTTP_ADDR=0.0.0.0:8080 \
    RAFT_ADDR=0.0.0.0:9090
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 9090
# Configuration by environment alone: NODE_ID, HTTP_ADDR, RAFT_ADDR, DATA_DIR, JOIN, PUBLIC_URL,
# ADVERTISE_RAFT_ADDR (see README). /healthz answers while the process serves HTTP.
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.HTTP_ADDR||'').split(':').pop() + '/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node as PID 1 handles SIGTERM itself (graceful stop with leadership hand-over).
CMD ["node", "dist/cmd/node.js"]
