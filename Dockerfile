# One image for the three services; the command picks which one runs.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false
COPY config ./config
COPY core ./core
COPY ingest ./ingest
COPY indexer ./indexer
COPY api ./api
USER node
ENV NODE_ENV=production
CMD ["node", "--import", "tsx", "api/main.ts"]
