# syntax=docker/dockerfile:1
# One image for every role: admatrix <api|worker|migrate|keys>.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc emits JavaScript only: the console's stylesheet is copied next to the module that reads it.
RUN npm run build && cp -r src/console/static dist/console/static

FROM node:24-slim AS runtime
# Debian's ffmpeg rather than the static npm build: security updates come with the base image,
# and it has xfade and libass. The caption fonts are the ones .ci/run installs (README: Captions):
# DejaVu for Latin, Cyrillic, Greek, Arabic, Hebrew; WenQuanYi Micro Hei for Han, kana, Hangul.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini \
     fontconfig fonts-dejavu-core fonts-wqy-microhei \
  && rm -rf /var/lib/apt/lists/*
# A heap sized for services whose live set is tens of MB: left to itself V8 sizes it from the
# host's memory and lets garbage reach hundreds of MB before collecting (bench/fanout.ts).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=8" \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    STORAGE_DIR=/data/storage \
    WORK_DIR=/data/work \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
# The worker's scratch space must be writable by node: /app is root's.
RUN mkdir -p /data/storage /data/work && chown -R node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main/cli.js"]
CMD ["api"]
