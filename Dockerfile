# One image for the three services and the CLIs; the command picks what runs.
# Build stage: TypeScript compiled once (scripts/build.sh); production runs plain JavaScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY core ./core
COPY ingest ./ingest
COPY indexer ./indexer
COPY api ./api
COPY scripts ./scripts
COPY stack ./stack
RUN bash scripts/build.sh

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Pipeline configs: PIPELINE_CONFIG points here (or mount your own).
COPY config/pipelines ./config/pipelines
USER node
# The CLIs: node dist/scripts/reindex.js <index>, node dist/scripts/api-keys.js create ...
CMD ["node", "dist/api/main.js"]
