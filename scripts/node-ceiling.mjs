// The ceiling for any Node.js HTTP tier on this machine: a bare node:http server (two cluster
// workers, no framework, no validation) that runs one prepared SELECT per request and writes
// the rows with JSON.stringify, to be put under the same HTTP load as MovR and compared with
// pgbench running the same SELECT (docs/benchmarks.md).
//
//   node scripts/node-ceiling.mjs postgres://postgres@127.0.0.1:5432/movr_bare [port]
import cluster from 'node:cluster';
import http from 'node:http';
import pg from 'pg';

const [url = 'postgres://postgres@127.0.0.1:5432/movr', port = '18999'] = process.argv.slice(2);
export const LIST_SQL =
  'select "vehicles"."id", "vehicles"."city", "vehicles"."type", "vehicles"."status", "vehicles"."current_location", ' +
  '"vehicles"."ext", "vehicles"."owner_id", "vehicles"."creation_time" from "vehicles" where "vehicles"."city" = $1 ' +
  'order by "vehicles"."id" asc limit 21';

if (cluster.isPrimary) {
  cluster.fork();
  cluster.fork();
  console.log(`bare Node.js list on http://127.0.0.1:${port}/?city=new%20york (2 workers)`);
} else {
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  http
    .createServer(async (req, res) => {
      const city = decodeURIComponent((req.url ?? '').split('city=')[1] ?? 'new york');
      const result = await pool.query({ name: 'list', text: LIST_SQL, values: [city] });
      const body = JSON.stringify({ vehicles: result.rows });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    })
    .listen(Number(port), '127.0.0.1');
}
