# syntax=docker/dockerfile:1
# lifecycle-guard: build with dev dependencies, run with production dependencies only.
# Node.js 26 is the current LTS line; pin a digest in your own build for reproducibility.
ARG NODE_IMAGE=node:26-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare script builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# A larger young generation: each review's objects die young, and with the default size the ones
# in flight during a scavenge were promoted and collected again later (npm run bench reads this
# line and runs both servers with it). A bounded old generation: without it V8 grows the heap as
# if the machine were its own and a few large reviews took RSS past the pod's 512Mi limit; with
# it, every worst-case review in reliability/hostile.test.ts peaks under 400 MiB.
ENV NODE_OPTIONS="--max-semi-space-size=32 --max-old-space-size=320"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
# Numeric, so runAsNonRoot can verify it without reading /etc/passwd; matches the Deployment.
USER 65532:65532
EXPOSE 8443 8081
# The image is the CLI: `docker run IMAGE check --old live.yaml --new rendered.yaml` in CI, and
# `serve` (the default command) in the cluster.
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["serve"]
