# The Cumulus server as an image, for docker-compose.yml and deployments.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# tsx, which runs the server's TypeScript, is a runtime dependency; the development ones are not needed.
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["npm", "start"]
