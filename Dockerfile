# syntax=docker/dockerfile:1
# Two images from one build: `app` (the control plane) and `ingest` (Debian's nginx + RTMP module,
# configured from the same nginx/nginx.conf.template the dev stack and the tests use).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/lib ./scripts/lib
COPY scripts/ingest.ts ./scripts/ingest.ts
# `npm run build` bundles the pages' browser modules (with hls.js) into public/build first.
COPY scripts/build-web.ts ./scripts/build-web.ts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Assets are read relative to the compiled modules (dist/src/db → dist/drizzle, dist/src/accounts → dist/data,
# dist/scripts/lib → dist/nginx).
FROM node:20-bookworm-slim AS app
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The web bundle (content-hashed JS/CSS, served at /assets/*), found by dist/src/web/assets.js.
COPY --from=build /app/public/build ./public/build
COPY drizzle ./dist/drizzle
COPY data ./dist/data
# ffmpeg/ffprobe remux recordings into videos and grab thumbnails (src/videos). The media volume's
# mount point belongs to the app, so a fresh volume does too; nginx (root) writes into it anyway.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/live-ingest/media && chown node:node /var/lib/live-ingest/media
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.APP_PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]

FROM node:20-bookworm-slim AS ingest
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp libnginx-mod-stream \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json ./
COPY --from=build /app/dist/scripts ./dist/scripts
COPY nginx ./dist/nginx
# RTMP, HTTP, and (when HTTPS_PORT/RTMPS_PORT are set, see docker-compose.yml) HTTPS and RTMPS.
EXPOSE 1935 8080 8443 1936
CMD ["node", "dist/scripts/ingest.js"]
