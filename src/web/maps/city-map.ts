// A city's vehicles around its centre, as an SVG: one mark per vehicle, coloured by status and
// shaped by type (circle: bike, square: scooter, triangle: skateboard), each a link to the
// vehicle's row of the list beside it; the centre marked; a scale bar. Drawn on the server from
// the rows themselves: no tiles, no network, no script. The list is the text alternative; the
// map says in words what it shows.
import { type LatLong, escapeXml, metresFrom, n, scaleBar } from './svg.ts';

export interface MapVehicle extends LatLong {
  readonly id: string;
  readonly type: string;
  readonly status: string;
  /** Where the mark links to, e.g. '#vehicle-<id>'. */
  readonly href: string;
  /** What the mark's tooltip says: 'Red scooter, available, at 1 Main St'. */
  readonly label: string;
}

export interface CityMapInput {
  readonly cityLabel: string;
  readonly centre: LatLong;
  /** Vehicles with a position; those without one are not drawn (and not counted). */
  readonly vehicles: readonly MapVehicle[];
  /** A point to mark as "you" (the near-me search), if any. */
  readonly you?: LatLong | undefined;
  readonly width?: number;
  readonly height?: number;
}

const MARK_RADIUS = 6;

/** The mark of one vehicle type, centred on (x, y). */
export function vehicleMark(type: string, x: number, y: number): string {
  const r = MARK_RADIUS;
  if (type === 'scooter') return `<rect x="${n(x - r + 1)}" y="${n(y - r + 1)}" width="${n(2 * r - 2)}" height="${n(2 * r - 2)}"/>`;
  if (type === 'skateboard') return `<path d="M${n(x)} ${n(y - r)}L${n(x + r)} ${n(y + r - 1)}H${n(x - r)}Z"/>`;
  return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r - 1)}"/>`;
}

function statusClass(status: string): string {
  return status.replace(/[^a-z_]/g, '') || 'unknown';
}

export function cityMapSvg(input: CityMapInput): string {
  const width = input.width ?? 640;
  const height = input.height ?? 400;
  const points = input.vehicles.map((vehicle) => metresFrom(input.centre, vehicle));
  const you = input.you ? metresFrom(input.centre, input.you) : undefined;
  // The scale fits every mark (and "you") with a margin, and shows at least a kilometre either side.
  const margin = 20;
  const all = you ? [...points, you] : points;
  const metresPerUnit = Math.max(
    1000 / (height / 2 - margin),
    ...all.map((p) => Math.abs(p.x) / (width / 2 - margin)),
    ...all.map((p) => Math.abs(p.y) / (height / 2 - margin)),
  );
  const toSvg = (p: { x: number; y: number }) => ({ x: width / 2 + p.x / metresPerUnit, y: height / 2 - p.y / metresPerUnit });
  const count = input.vehicles.length;
  const title = `Map of ${count} ${count === 1 ? 'vehicle' : 'vehicles'} in ${input.cityLabel}`;
  const description =
    `Each vehicle of the list is a mark around the city centre (the cross): circles are bikes, squares scooters, ` +
    `triangles skateboards; green is available, amber in use, grey lost.${input.you ? ' The ring is the point you searched from.' : ''}`;
  const marks = input.vehicles
    .map((vehicle, i) => {
      const { x, y } = toSvg(points[i] as { x: number; y: number });
      return (
        `<a href="${escapeXml(vehicle.href)}" class="map__vehicle map__vehicle--${statusClass(vehicle.status)}" data-vehicle-id="${escapeXml(vehicle.id)}" tabindex="-1">` +
        `<title>${escapeXml(vehicle.label)}</title>${vehicleMark(vehicle.type, x, y)}</a>`
      );
    })
    .join('');
  const centre = toSvg({ x: 0, y: 0 });
  const youMark = you ? (() => {
    const p = toSvg(you);
    return `<circle class="map__you" cx="${n(p.x)}" cy="${n(p.y)}" r="10"/>`;
  })() : '';
  return (
    `<svg class="map map--city" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="city-map-title city-map-desc" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="city-map-title">${escapeXml(title)}</title><desc id="city-map-desc">${escapeXml(description)}</desc>` +
    `<rect class="map__ground" width="${width}" height="${height}"/>` +
    `<path class="map__centre" d="M${n(centre.x - 8)} ${n(centre.y)}H${n(centre.x + 8)}M${n(centre.x)} ${n(centre.y - 8)}V${n(centre.y + 8)}"/>` +
    youMark +
    `<g class="map__marks">${marks}</g>` +
    scaleBar(metresPerUnit, width, height) +
    `</svg>`
  );
}
