// Riders starting and ending rides through the JSON API as a careful client does: every write
// with an Idempotency-Key, sent again with the same key after a 503 or a lost connection until
// it has a definitive answer. What the fault tests and the chaos benchmark (scripts/chaos.ts)
// drive MovR with, and score: the answers by status and code, and every ride acknowledged.
import { setTimeout as sleep } from 'node:timers/promises';

export interface TrafficRider {
  readonly city: string;
  readonly token: string;
  /** The vehicle this rider rides (one each, so riders never compete). */
  readonly vehicleId: string;
}

export interface PhaseCounts {
  /** Answers by "status code", e.g. "201", "503 database_unavailable", and "network" for no answer. */
  readonly answers: Map<string, number>;
  requests: number;
}

export class RideTraffic {
  /** Ride ids the server acknowledged with 201. */
  readonly acknowledged = new Set<string>();
  readonly phases = new Map<string, PhaseCounts>();
  /** When each write first got a 2xx in the current phase (for time to recover). */
  private firstSuccessAt: number | undefined;
  private current: PhaseCounts;
  private stopped = false;
  private running: Promise<void>[] = [];
  private keys = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly riders: readonly TrafficRider[],
    /** Pause before sending a write again after a 503 or no answer. */
    private readonly retryPauseMs = 100,
  ) {
    this.current = this.phase('start');
  }

  /** Counts what follows under a new name; returns its counts. */
  phase(name: string): PhaseCounts {
    const counts: PhaseCounts = { answers: new Map(), requests: 0 };
    this.phases.set(name, counts);
    this.current = counts;
    this.firstSuccessAt = undefined;
    return counts;
  }

  /** The time of the first successful write since the phase began, if any. */
  get firstSuccess(): number | undefined {
    return this.firstSuccessAt;
  }

  start(): void {
    this.running = this.riders.map((rider) => this.ride(rider));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  /** Every answer with a status outside 2xx, 4xx and 503 (a 500, say), over all phases. */
  unexpectedAnswers(): string[] {
    const bad: string[] = [];
    for (const [phase, counts] of this.phases) {
      for (const answer of counts.answers.keys()) {
        const status = Number(answer.split(' ', 1)[0]);
        if (!((status >= 200 && status < 300) || (status >= 400 && status < 500) || status === 503)) bad.push(`${phase}: ${answer}`);
      }
    }
    return bad;
  }

  private count(answer: string): void {
    this.current.requests++;
    this.current.answers.set(answer, (this.current.answers.get(answer) ?? 0) + 1);
  }

  private async ride(rider: TrafficRider): Promise<void> {
    while (!this.stopped) {
      const started = await this.untilAnswered('/api/v1/rides', rider.token, { vehicle_city: rider.city, vehicle_id: rider.vehicleId });
      if (started.status !== 201) continue;
      const ride = started.body as { ride: { id: string } };
      this.acknowledged.add(ride.ride.id);
      await this.untilAnswered(`/api/v1/rides/${encodeURIComponent(rider.city)}/${ride.ride.id}/end`, rider.token, {
        end_address: '1 Recovered Street',
      });
    }
  }

  /** Sends a write until it has a definitive answer (not 503, not a lost connection), with one Idempotency-Key. */
  private async untilAnswered(path: string, token: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const key = `traffic-${++this.keys}-${Math.random().toString(36).slice(2)}`;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch {
        this.count('network');
        await sleep(this.retryPauseMs);
        continue;
      }
      const parsed = (await response.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
      this.count(response.status < 400 ? String(response.status) : `${response.status} ${parsed?.error?.code ?? '?'}`);
      if (response.status !== 503) {
        if (response.status < 300) this.firstSuccessAt ??= Date.now();
        return { status: response.status, body: parsed };
      }
      await sleep(this.retryPauseMs);
    }
  }
}
