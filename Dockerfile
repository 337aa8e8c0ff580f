# The stevens CLI as an image, for soak shards on Kubernetes (deploy/k8s/soak-job.yaml) or anywhere else:
#   docker build --build-arg STEVENS_COMMIT="$(git rev-parse HEAD)" -t stevens:0.1.0 .
#   docker run --rm -v "$PWD/out:/out" stevens:0.1.0 soak --seeds 1..100 --shard 0/4 --out /out
# Two stages: the TypeScript is compiled with the dev dependencies, the image keeps the compiled CLI and the
# runtime dependencies only.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: the prepare step would compile before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p .

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY README.md ./
# The commit a result records (there is no .git in the image): pass it at build time.
ARG STEVENS_COMMIT=""
ENV STEVENS_COMMIT=${STEVENS_COMMIT}
USER node
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["soak"]
