// Rides started and ended, and the revenue of those ended, per city, counted by the domain once
// each ride's transaction has committed: what /metrics reports (src/web/metrics.ts). A ride
// whose commit was ambiguous is not counted (it may or may not have happened).

export interface CityRideCounts {
  started: number;
  ended: number;
  /** The fares charged for the rides ended, after discounts, in cents. */
  revenueCents: number;
}

export class RideStats {
  private readonly cities = new Map<string, CityRideCounts>();

  private entry(city: string): CityRideCounts {
    let counts = this.cities.get(city);
    if (!counts) {
      counts = { started: 0, ended: 0, revenueCents: 0 };
      this.cities.set(city, counts);
    }
    return counts;
  }

  recordStart(city: string): void {
    this.entry(city).started++;
  }

  recordEnd(city: string, revenueCents: number): void {
    const counts = this.entry(city);
    counts.ended++;
    counts.revenueCents += revenueCents;
  }

  snapshot(): Record<string, CityRideCounts> {
    return Object.fromEntries([...this.cities].map(([city, counts]) => [city, { ...counts }]));
  }
}
