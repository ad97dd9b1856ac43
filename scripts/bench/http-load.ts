// The HTTP load of the list, page and start rows: wrk with a Lua script (requests made up front,
// one after the other per thread), or autocannon in this process where wrk is not installed.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './processes.ts';

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpLoadOptions {
  base: string;
  connections: number;
  threads: number;
  seconds: number;
  /** The requests, sent in turn; a thread of wrk takes every threads-th of them. */
  requests: readonly HttpRequestSpec[];
  /**
   * Each request is sent at most once (the start row: a distinct rider and vehicle per request):
   * a wrk thread that has sent all of its requests stops (the rate is over the time it ran);
   * the few sent again meanwhile (at most one per connection) are counted as `repeated`.
   */
  distinct: boolean;
  /** Count answers by status (costs wrk a Lua call per answer; used where conflicts are expected). */
  countStatuses: boolean;
  workDir: string;
}

export interface HttpLoadResult {
  tool: 'wrk' | 'autocannon';
  requests: number;
  /** Answers with a status below 400. */
  ok: number;
  /** ok per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** By status, when counted; otherwise only the 4xx/5xx total under "4xx/5xx". */
  statuses: Record<string, number>;
  socketErrors: number;
  timeouts: number;
  repeated: number;
  /** How long the load ran (shorter than asked when a distinct pool ran out). */
  seconds: number;
}

const WRK_CANDIDATES = ['/usr/bin/wrk', '/usr/local/bin/wrk'];

export function findWrk(): string | undefined {
  if (process.env.BENCH_NO_WRK === '1') return undefined;
  for (const candidate of WRK_CANDIDATES) if (existsSync(candidate)) return candidate;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, 'wrk'))) return path.join(dir, 'wrk');
  return undefined;
}

const lua = (text: string) => JSON.stringify(text); // a JSON string is a valid Lua string literal for these characters

/**
 * wrk calls response() for every answer, body and all, only if the script defines it: only
 * where statuses are counted or a distinct pool must stop the thread once it is used up.
 */
function responseFunction(options: HttpLoadOptions): string {
  if (!options.countStatuses && !options.distinct) return '';
  const lines = ['function response(status, headers, body)'];
  if (options.countStatuses) lines.push('  statuses[status] = (statuses[status] or 0) + 1');
  // Every request sent once: the thread stops, and its time is the time it ran.
  if (options.distinct) lines.push('  if wraps > 0 then wrk.thread:stop() end');
  lines.push('end');
  return lines.join('\n');
}

function wrkScript(options: HttpLoadOptions, requestsFile: string): string {
  return `-- written by scripts/bench.ts
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[1])
  reqs = {}
  local index = 0
  local method, path, body, headers = nil, nil, nil, {}
  -- the requests file: "R <method> <path>", "H <name>: <value>"..., "B <body>", "E", one request after the other
  for line in io.lines(${lua(requestsFile)}) do
    local kind, rest = line:sub(1, 1), line:sub(3)
    if kind == "R" then
      method, path = rest:match("^(%S+) (.*)$")
      body, headers = nil, {}
    elseif kind == "H" then
      local name, value = rest:match("^([^:]+): (.*)$")
      headers[name] = value
    elseif kind == "B" then
      body = rest
    elseif kind == "E" then
      if index % nthreads == tid then reqs[#reqs + 1] = wrk.format(method, path, headers, body) end
      index = index + 1
    end
  end
  pos = 0
  wraps = 0
  repeated = 0
  statuses = {}
end

function request()
  pos = pos + 1
  if pos > #reqs then
    pos = 1
    wraps = wraps + 1
  end
  if wraps > 0 then repeated = repeated + 1 end
  return reqs[pos]
end

${responseFunction(options)}
function done(summary, latency, requests)
  local all = {}
  local again = 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do all[k] = (all[k] or 0) + v end
    end
    again = again + (t:get("repeated") or 0)
  end
  local parts = {}
  for k, v in pairs(all) do parts[#parts + 1] = string.format('"%s":%d', tostring(k), v) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"repeated":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), ${options.distinct ? 'again' : '0'}, table.concat(parts, ",")))
end
`;
}

function requestsFileText(requests: readonly HttpRequestSpec[]): string {
  const lines: string[] = [];
  for (const r of requests) {
    lines.push(`R ${r.method} ${r.path}`);
    for (const [name, value] of Object.entries(r.headers)) lines.push(`H ${name}: ${value}`);
    if (r.body !== undefined) lines.push(`B ${r.body}`);
    lines.push('E');
  }
  return `${lines.join('\n')}\n`;
}

async function runWrk(wrk: string, options: HttpLoadOptions): Promise<HttpLoadResult> {
  const requestsFile = path.join(options.workDir, 'wrk-requests.txt');
  const scriptFile = path.join(options.workDir, 'wrk.lua');
  writeFileSync(requestsFile, requestsFileText(options.requests));
  writeFileSync(scriptFile, wrkScript(options, requestsFile));
  const threads = Math.min(options.threads, options.connections);
  const result = await run(wrk, [
    '-t', String(threads),
    '-c', String(options.connections),
    '-d', `${options.seconds}s`,
    '--timeout', '30s',
    '-s', scriptFile,
    options.base,
    '--',
    String(threads),
  ]);
  const line = /BENCH_RESULT (\{.*\})/.exec(result.stdout)?.[1];
  if (result.code !== 0 || !line) throw new Error(`wrk failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    connect: number;
    read: number;
    write: number;
    status: number;
    timeout: number;
    p50_us: number;
    p99_us: number;
    repeated: number;
    statuses: Record<string, number>;
  };
  const ok = r.requests - r.status;
  return {
    tool: 'wrk',
    requests: r.requests,
    ok,
    rate: ok / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    statuses: options.countStatuses ? r.statuses : r.status > 0 ? { '4xx/5xx': r.status } : {},
    socketErrors: r.connect + r.read + r.write,
    timeouts: r.timeout,
    repeated: r.repeated,
    seconds: r.duration_us / 1e6,
  };
}

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}

async function runAutocannon(options: HttpLoadOptions): Promise<HttpLoadResult> {
  // autocannon has no type declarations: imported by a name TypeScript does not resolve.
  const name: string = 'autocannon';
  const autocannon = ((await import(name)) as { default: (o: object) => Promise<AutocannonResult> }).default;
  let next = 0;
  let repeated = 0;
  const result = await autocannon({
    url: options.base,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        setupRequest: (request: object) => {
          const spec = options.requests[next % options.requests.length]!;
          if (next >= options.requests.length) repeated++;
          next++;
          return { ...request, method: spec.method, path: spec.path, headers: spec.headers, body: spec.body };
        },
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stats.count;
  const bad = Object.entries(statuses)
    .filter(([code]) => Number(code) >= 400)
    .reduce((sum, [, n]) => sum + n, 0);
  const ok = result.requests.total - bad;
  return {
    tool: 'autocannon',
    requests: result.requests.total,
    ok,
    rate: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses: options.countStatuses ? statuses : bad > 0 ? { '4xx/5xx': bad } : {},
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    repeated: options.distinct ? repeated : 0,
    seconds: result.duration,
  };
}

export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const wrk = findWrk();
  return wrk ? runWrk(wrk, options) : runAutocannon(options);
}
