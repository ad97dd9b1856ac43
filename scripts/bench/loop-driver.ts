// The loop row's load generator, a child process of the bench: per connection, one rider and
// vehicle; start a ride (POST /api/v1/rides), end it (POST /api/v1/rides/<city>/<id>/end), again,
// until the time is up. A cycle's latency is from sending the start to the end's answer, in an
// HDR histogram. One keep-alive socket per connection; nothing parsed but the started ride's id.
//
//   node --import tsx scripts/bench/loop-driver.ts <config.json>
// config: { base, city, seconds, pairs: [{ token, vehicleId }] }; prints one JSON line.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';

interface Config {
  base: string;
  city: string;
  seconds: number;
  pairs: { token: string; vehicleId: string }[];
}

export interface LoopResult {
  cycles: number;
  seconds: number;
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers to the starts and the ends by status. */
  start: Record<string, number>;
  end: Record<string, number>;
  socketErrors: number;
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;
const base = new URL(config.base);
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const starts: Record<string, number> = {};
const ends: Record<string, number> = {};
let socketErrors = 0;
let cycles = 0;
const count = (map: Record<string, number>, status: number) => (map[status] = (map[status] ?? 0) + 1);

function post(agent: http.Agent, path: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const RIDE_ID = /"id"\s*:\s*"([0-9a-f-]{36})"/;
const cityPath = encodeURIComponent(config.city);
let deadline = 0;

async function connection(pair: Config['pairs'][number]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const startBody = JSON.stringify({ vehicle_city: config.city, vehicle_id: pair.vehicleId });
  const endBody = JSON.stringify({ end_address: '1 Loop Street' });
  try {
    while (performance.now() < deadline) {
      const began = performance.now();
      let rideId: string | undefined;
      try {
        const started = await post(agent, '/api/v1/rides', pair.token, startBody);
        count(starts, started.status);
        if (started.status === 201) rideId = RIDE_ID.exec(started.body)?.[1];
      } catch {
        socketErrors++;
      }
      if (!rideId) {
        await sleep(20); // a 503 or a conflict: a breath, then the next cycle
        continue;
      }
      // The ride is open: end it, however long that takes (a 503 is tried again).
      for (;;) {
        try {
          const ended = await post(agent, `/api/v1/rides/${cityPath}/${rideId}/end`, pair.token, endBody);
          count(ends, ended.status);
          if (ended.status === 200) {
            if (performance.now() <= deadline) {
              histogram.recordValue(Math.max(1, Math.round((performance.now() - began) * 1000)));
              cycles++;
            }
            break;
          }
          if (ended.status !== 503 && ended.status < 500) break;
        } catch {
          socketErrors++;
        }
        await sleep(20);
      }
    }
  } finally {
    agent.destroy();
  }
}

const began = performance.now();
deadline = began + config.seconds * 1000;
await Promise.all(config.pairs.map((pair) => connection(pair)));
const seconds = config.seconds;
const result: LoopResult = {
  cycles,
  seconds,
  rate: cycles / seconds,
  p50Ms: histogram.getValueAtPercentile(50) / 1000,
  p99Ms: histogram.getValueAtPercentile(99) / 1000,
  start: starts,
  end: ends,
  socketErrors,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
