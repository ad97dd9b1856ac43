// The HTTP target of `movr workload run --target http://host:port`: the same operations through
// a running MovR server's JSON API (/api/v1), so the whole stack is measured: HTTP, validation,
// authentication, the domain and the database.
//
// Riders register (POST /auth/register) and log in (POST /auth/login) before the run and send
// their bearer token. add_user registers a new account, password hashing included, as a real
// sign-up does. create_promo_code goes through the operators' API (POST /operator/promo-codes)
// as an account the workload registers and makes an operator through the server's database
// (--db); without --db it is left out of the mix. SQLSTATE 40001 retries happen inside the server and cannot be seen from here.
// Requests go over keep-alive connections (node:http, one socket per worker).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Database } from '../db/connect.ts';
import { grantOperator } from '../movr/operators.ts';
import type { RegionMap } from '../region-map.ts';
import type { WriteOperation } from './mix.ts';
import type { RowRandom } from './random.ts';
import {
  HttpError,
  type RideHandle,
  type Rider,
  type WorkloadTarget,
  WorkloadConflict,
  personName,
  pointIn,
  promoCodeValues,
  randomCodeCursor,
  streetAddress,
  vehicleValues,
} from './target.ts';

const API = '/api/v1';
const REQUEST_TIMEOUT_MS = 30_000;

interface Response {
  status: number;
  body: unknown;
}

export class HttpTarget implements WorkloadTarget {
  readonly description: string;
  readonly unsupported = new Map<WriteOperation, string>();
  /** The database the operator role is granted on (create_promo_code needs an operator). */
  private readonly operatorDb: Database | undefined;
  private operatorToken: Promise<string> | undefined;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  /** Makes usernames unique across runs against one server. */
  private readonly runId = randomBytes(4).toString('hex');
  private readonly regions: RegionMap;

  constructor(baseUrl: string, options: { regions: RegionMap; connections?: number; operatorDb?: Database | undefined }) {
    this.regions = options.regions;
    this.operatorDb = options.operatorDb;
    if (!this.operatorDb) {
      this.unsupported.set('create_promo_code', 'creating promo codes needs an operator: pass --db with the server’s database');
    }
    this.base = new URL(baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new Error(`--target must be an http:// or https:// URL, got "${baseUrl}"`);
    }
    this.transport = this.base.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: options.connections ?? 16 });
    this.description = `${this.base.origin} (JSON API)`;
  }

  /** One request; resolves with any status, rejects only when no response came. */
  request(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (token) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
          method,
          headers,
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = undefined;
            if (text.length > 0) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A request that must succeed: an error status becomes an HttpError with the API's code. */
  private async call(method: string, path: string, body?: unknown, token?: string): Promise<unknown> {
    const response = await this.request(method, path, body, token);
    if (response.status >= 200 && response.status < 300) return response.body;
    const error = (response.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : 'unknown';
    const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`;
    throw new HttpError(response.status, code, `${method} ${path}: ${response.status} ${code}: ${message}`);
  }

  private async register(city: string, label: string, rng: RowRandom): Promise<{ username: string; password: string }> {
    const username = `wl-${this.runId}-${label}`.toLowerCase().slice(0, 32);
    const password = randomBytes(15).toString('base64url');
    await this.call('POST', `${API}/auth/register`, { username, password, name: personName(rng), city, address: streetAddress(rng) });
    return { username, password };
  }

  async createRider(city: string, label: string, rng: RowRandom): Promise<Rider> {
    const credentials = await this.register(city, label, rng);
    const login = (await this.call('POST', `${API}/auth/login`, credentials)) as {
      token: string;
      user: { id: string; city: string };
    };
    return { city: login.user.city, id: login.user.id, token: login.token, openRide: null, openedAt: 0, rideInDoubt: false };
  }

  async readVehicles(city: string): Promise<void> {
    await this.call('GET', `${API}/vehicles?city=${encodeURIComponent(city)}`);
  }

  /** The token of the workload's operator account: registered, granted and logged in once. */
  private operator(rng: RowRandom): Promise<string> {
    this.operatorToken ??= (async () => {
      const db = this.operatorDb;
      if (!db) throw new Error('create_promo_code needs --db');
      const city = this.regions.cities[0]?.name ?? 'new york';
      const credentials = await this.register(city, 'operator', rng);
      await grantOperator(db, credentials.username);
      const login = (await this.call('POST', `${API}/auth/login`, credentials)) as { token: string };
      return login.token;
    })();
    // A failed set-up is tried again by the next create_promo_code.
    this.operatorToken.catch(() => {
      this.operatorToken = undefined;
    });
    return this.operatorToken;
  }

  async createPromoCode(rng: RowRandom): Promise<void> {
    const token = await this.operator(rng);
    const label = `${Date.now().toString(36)}${rng.int(2 ** 31).toString(36)}`;
    const values = promoCodeValues(rng, label);
    await this.call(
      'POST',
      `${API}/operator/promo-codes`,
      {
        code: values.code,
        description: values.description,
        percent_off: values.percentOff,
        expires_at: new Date(Date.now() + values.validDays * 86_400_000).toISOString(),
      },
      token,
    );
  }

  async applyPromoCode(rider: Rider, rng: RowRandom): Promise<boolean> {
    type Page = { items: { code: string }[] };
    let page = (await this.call('GET', `${API}/promo-codes?limit=1&cursor=${randomCodeCursor(rng)}`)) as Page;
    if (page.items.length === 0) page = (await this.call('GET', `${API}/promo-codes?limit=1`)) as Page;
    const promo = page.items[0];
    if (!promo) return false;
    await this.call('POST', `${API}/me/promo-codes`, { code: promo.code }, rider.token);
    return true;
  }

  async addUser(city: string, label: string, rng: RowRandom): Promise<void> {
    await this.register(city, label, rng);
  }

  async addVehicle(owner: Rider, rng: RowRandom): Promise<void> {
    const values = vehicleValues(rng);
    const body: Record<string, string> = {
      city: owner.city,
      type: values.type,
      color: values.color,
      current_location: values.location,
    };
    if (values.brand) body.brand = values.brand;
    const { lat, long } = pointIn(this.regions, owner.city, rng);
    await this.call('POST', `${API}/vehicles`, { ...body, lat, long }, owner.token);
  }

  async startRide(rider: Rider, rng: RowRandom): Promise<RideHandle> {
    type Page = { items: { id: string; city: string }[] };
    const query = `${API}/vehicles?city=${encodeURIComponent(rider.city)}&status=available&limit=1`;
    let page = (await this.call('GET', `${query}&cursor=${rng.uuid()}`)) as Page;
    if (page.items.length === 0) page = (await this.call('GET', query)) as Page;
    const vehicle = page.items[0];
    if (!vehicle) throw new WorkloadConflict('no_vehicle_available', `no vehicle is available in ${rider.city}`);
    const started = (await this.call('POST', `${API}/rides`, { vehicle_city: vehicle.city, vehicle_id: vehicle.id }, rider.token)) as {
      ride: { id: string; city: string };
    };
    return { city: started.ride.city, id: started.ride.id };
  }

  async recordLocation(rider: Rider, ride: RideHandle, rng: RowRandom): Promise<void> {
    await this.call('POST', `${API}/rides/${encodeURIComponent(ride.city)}/${ride.id}/locations`, pointIn(this.regions, ride.city, rng), rider.token);
  }

  async endRide(rider: Rider, ride: RideHandle, rng: RowRandom): Promise<void> {
    await this.call(
      'POST',
      `${API}/rides/${encodeURIComponent(ride.city)}/${ride.id}/end`,
      { end_address: streetAddress(rng) },
      rider.token,
    );
  }

  markRetries(): void {}

  retries(): null {
    return null;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
