// The metrics port (MOVR_METRICS_PORT): a plain HTTP server apart from the site, for Prometheus.
// A single process serves its own registry there (server.ts); with several workers, the
// primary serves every worker's figures added up (cluster.ts). See metrics.ts.
import http from 'node:http';
import { Registry } from 'prom-client';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464 (the real port when the port was 0). */
  url: string;
  close(): Promise<void>;
}

/**
 * A plain HTTP server for MOVR_METRICS_PORT: GET /metrics answers `text()`, anything else 404.
 * No token: it listens on loopback unless MOVR_METRICS_HOST says otherwise.
 */
export async function serveMetrics(host: string, port: number, text: () => Promise<string>): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at /metrics\n');
      return;
    }
    text().then(
      (body) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(body),
      (error: unknown) =>
        response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`Metrics unavailable: ${(error as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Why the metrics port could not be had, in one line. */
export function metricsPortError(error: unknown, host: string, port: number): Error {
  return (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
    ? new Error(`MOVR_METRICS_PORT ${port} on ${host} is in use: set MOVR_METRICS_PORT to a free port`)
    : new Error(`cannot serve the metrics on ${host}:${port}: ${(error as Error).message}`, { cause: error });
}
