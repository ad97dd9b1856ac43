// The pgbench side of each row: one call of the domain function behind the route, recorded (see
// capture.ts), turned into a pgbench script. Keys become expressions over pgbench variables
// (the bench pairs of data.ts); every other parameter stays a bind parameter with the value
// MovR sent (-D), so under -M prepared pgbench sends what MovR sends, statement for statement.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/db/connect.ts';
import { verifyToken } from '../../src/movr/api-tokens.ts';
import type { PriceList } from '../../src/movr/pricing.ts';
import { endRide, findOpenRideRef, startRide } from '../../src/movr/rides.ts';
import type { UserRef } from '../../src/movr/users.ts';
import { checkSession, createSession } from '../../src/movr/sessions.ts';
import { listVehicles } from '../../src/movr/vehicles.ts';
import { type Statement, type Substitution, describeStatements, pgbenchCommands, record } from './capture.ts';
import { BENCH_CITY, type BenchPairs, PAIR_STRIDE, riderExpression, tokenExpression, vehicleExpression } from './data.ts';

export interface RowScripts {
  /** Script files for pgbench -f (several: pgbench picks one at random per transaction). */
  readonly files: string[];
  readonly defines: Map<string, string>;
  /** What --show-sql prints: the recorded statements and the scripts made of them. */
  readonly shown: string;
  /** Statements per request (or cycle) that MovR sends, how many are named (prepared), in how many round trips. */
  readonly statements: number;
  readonly named: number;
  readonly roundTrips: number;
}

/** The pair the recordings use; never one a pgbench client reaches (client 0, i = PAIR_STRIDE - 1). */
export const CAPTURE_PAIR = PAIR_STRIDE - 1;

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function show(title: string, recorded: [string, readonly Statement[]][], scripts: [string, string][], defines: Map<string, string>): string {
  const parts = [`── ${title}`];
  for (const [label, statements] of recorded) parts.push(`recorded: ${label}\n${describeStatements(statements)}`);
  for (const [file, text] of scripts) parts.push(`pgbench script ${path.basename(file)}:\n${text.trimEnd()}`);
  if (defines.size > 0) parts.push(`pgbench -D: ${[...defines].map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
  return parts.join('\n\n');
}

/** Statements, named ones and round trips of the groups sent one after the other. */
const counts = (...groups: (readonly Statement[])[]) => {
  const statements = groups.flat();
  return {
    statements: statements.length,
    named: statements.filter((s) => s.name !== undefined).length,
    roundTrips: statements.filter((s) => !s.pipelinedWithNext).length,
  };
};

/** `list`: GET /api/v1/vehicles?city=<city>, the cities in turn: one script per city, each with its city as a variable. */
export async function listScripts(db: Database, dir: string, cities: readonly string[]): Promise<RowScripts> {
  const defines = new Map<string, string>();
  const files: string[] = [];
  const scripts: [string, string][] = [];
  let first: readonly Statement[] = [];
  for (const [k, city] of cities.entries()) {
    const { statements } = await record(() => listVehicles(db, { city }));
    if (k === 0) first = statements;
    const variable = `city${k}`;
    defines.set(variable, city);
    const commands = pgbenchCommands(statements, (value) => (value === city ? { variable } : undefined), defines);
    const text = `-- GET /api/v1/vehicles?city=${city}: listVehicles\n${commands.join('\n')}\n`;
    const file = write(dir, `list-${k}.sql`, text);
    files.push(file);
    if (k === 0) scripts.push([file, text]);
  }
  return {
    files,
    defines,
    shown: show(`list: GET /api/v1/vehicles?city=<city>, ${cities.length} cities in turn (one script per city; the first shown)`, [[`listVehicles(db, { city: '${cities[0]}' })`, first]], scripts, defines),
    ...counts(first),
  };
}

/**
 * `page`: GET /cities/new%20york/vehicles for a rider of new york: the session check, the list,
 * and the rider's open ride. The session is one made for the recording (same statement, same
 * primary-key read as the cookie's).
 */
export async function pageScripts(db: Database, dir: string, rider: UserRef): Promise<RowScripts> {
  const session = await createSession(db, rider);
  const check = await record(() => checkSession(db, rider, session.token));
  const list = await record(() => listVehicles(db, { city: rider.city }));
  const open = await record(() => findOpenRideRef(db, rider));
  const defines = new Map<string, string>();
  const commands = pgbenchCommands([...check.statements, ...list.statements, ...open.statements], () => undefined, defines);
  const text = `-- GET /cities/${encodeURIComponent(rider.city)}/vehicles, logged in: checkSession, listVehicles, findOpenRideRef\n${commands.join('\n')}\n`;
  const file = write(dir, 'page.sql', text);
  return {
    files: [file],
    defines,
    shown: show(
      'page: GET /cities/new%20york/vehicles as a logged-in rider of new york',
      [
        ['checkSession(db, rider, token)', check.statements],
        [`listVehicles(db, { city: '${rider.city}' })`, list.statements],
        ['findOpenRideRef(db, rider)', open.statements],
      ],
      [[file, text]],
      defines,
    ),
    ...counts(check.statements, list.statements, open.statements),
  };
}

interface RideRecording {
  verify: readonly Statement[];
  start: readonly Statement[];
  end: readonly Statement[];
  riderId: string;
  vehicleId: string;
  tokenId: string;
  rideId: string;
}

/** One start and one end of a ride, with the token check before each, on the capture pair. */
async function recordRide(db: Database, pairs: BenchPairs, tokenKey: Buffer, priceList: PriceList): Promise<RideRecording> {
  await pairs.ensure(pairs.depth, [CAPTURE_PAIR]);
  await pairs.reset();
  const pair = await pairs.pair(CAPTURE_PAIR);
  const token = (await pairs.tokensFor([CAPTURE_PAIR])).get(CAPTURE_PAIR)!;
  const [row] = await db.execute('SELECT id FROM api_tokens WHERE city = $1 AND user_id = $2 AND id <> ' + tokenExpression('$3::bigint'), [
    BENCH_CITY,
    pair.riderId,
    CAPTURE_PAIR,
  ]);
  if (!row) throw new Error('the capture token has no api_tokens row');
  const rider: UserRef = { city: BENCH_CITY, id: pair.riderId };
  const verify = await record(() => verifyToken(db, token, tokenKey));
  const start = await record(() => startRide(db, rider, { city: BENCH_CITY, id: pair.vehicleId }));
  const end = await record(() => endRide(db, rider, start.result, '1 Loop Street', { priceList }));
  await pairs.reset();
  return {
    verify: verify.statements,
    start: start.statements,
    end: end.statements,
    riderId: pair.riderId,
    vehicleId: pair.vehicleId,
    tokenId: String(row.id),
    rideId: start.result.id,
  };
}

function keys(recording: RideRecording, ride: string): (value: string) => Substitution | undefined {
  const map = new Map<string, Substitution>([
    [recording.riderId, { expression: riderExpression(':n') }],
    [recording.vehicleId, { expression: vehicleExpression(':n') }],
    [recording.tokenId, { expression: tokenExpression(':n') }],
    [recording.rideId, { expression: ride }],
  ]);
  return (value) => map.get(value);
}

function checkKeys(recording: RideRecording, statements: readonly Statement[], what: string): void {
  const sent = new Set(statements.flatMap((s) => s.values));
  for (const [name, value] of [['rider', recording.riderId], ['vehicle', recording.vehicleId]] as const) {
    if (!sent.has(value)) throw new Error(`${what} sent no ${name} id: the recording is not what the bench expects`);
  }
}

/** `start`: POST /api/v1/rides, each transaction a distinct pair n = client_id * 100000 + i. */
export async function startScripts(db: Database, dir: string, pairs: BenchPairs, tokenKey: Buffer, priceList: PriceList): Promise<RowScripts> {
  const recording = await recordRide(db, pairs, tokenKey, priceList);
  checkKeys(recording, recording.start, 'startRide');
  const defines = new Map<string, string>([['i', '0']]);
  const substitute = keys(recording, `md5('bench-ride-' || :n)::uuid`);
  const commands = pgbenchCommands([...recording.verify, ...recording.start], substitute, defines);
  const text = [
    '-- POST /api/v1/rides: verifyToken, then startRide; pair n is new for every transaction',
    `\\set n :client_id * ${PAIR_STRIDE} + :i`,
    ...commands,
    '\\set i :i + 1',
    '',
  ].join('\n');
  const file = write(dir, 'start.sql', text);
  return {
    files: [file],
    defines,
    shown: show(
      'start: POST /api/v1/rides with a bearer token, a distinct rider and vehicle per request',
      [
        ['verifyToken(db, token, key)', recording.verify],
        ['startRide(db, rider, vehicle)', recording.start],
      ],
      [[file, text]],
      defines,
    ),
    ...counts(recording.verify, recording.start),
  };
}

/**
 * `loop`: start a ride, end it, again, one pair per client (n = client_id * 100000). pgbench
 * retries a failed transaction by running its script again, so a script holds one transaction:
 * it starts or ends a ride by the parity of c, which advances only once a transaction committed.
 */
export async function loopScripts(db: Database, dir: string, pairs: BenchPairs, tokenKey: Buffer, priceList: PriceList): Promise<RowScripts> {
  const recording = await recordRide(db, pairs, tokenKey, priceList);
  checkKeys(recording, recording.start, 'startRide');
  checkKeys(recording, recording.end, 'endRide');
  const defines = new Map<string, string>([['c', '0']]);
  const substitute = keys(recording, `md5('bench-loop-ride-' || :n || '-' || :r)::uuid`);
  const start = pgbenchCommands([...recording.verify, ...recording.start], substitute, defines);
  const end = pgbenchCommands([...recording.verify, ...recording.end], substitute, defines);
  const text = [
    '-- a cycle: POST /api/v1/rides (verifyToken, startRide), then POST /api/v1/rides/<city>/<id>/end (verifyToken, endRide)',
    `\\set n :client_id * ${PAIR_STRIDE}`,
    '\\set r :c / 2',
    '\\if :c % 2 = 0',
    ...start,
    '\\else',
    ...end,
    '\\endif',
    '\\set c :c + 1',
    '',
  ].join('\n');
  const file = write(dir, 'loop.sql', text);
  return {
    files: [file],
    defines,
    shown: show(
      'loop: start a ride, end it, in a loop; one rider and vehicle per connection',
      [
        ['verifyToken(db, token, key)', recording.verify],
        ['startRide(db, rider, vehicle)', recording.start],
        ["endRide(db, rider, ride, '1 Loop Street')", recording.end],
      ],
      [[file, text]],
      defines,
    ),
    ...counts(recording.verify, recording.verify, recording.start, recording.end),
  };
}
