// An owner's vehicles: the list (retired ones included), adding one, retiring one.
//
//   GET  /vehicles/mine               my vehicles
//   GET  /vehicles/new                the form to add a vehicle
//   POST /vehicles/new                adds it (in the owner's home city); errors re-render the form
//   POST /vehicles/:city/:id/retire   retires one of my vehicles (not while someone rides it)
//
// Only the owner may retire a vehicle: anyone else gets the friendly 403 page and nothing
// changes.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ValidationError, isDomainError } from '../../movr/errors.ts';
import { RETIRED, VEHICLE_COLORS, VEHICLE_TYPES } from '../../movr/rules.ts';
import type { FieldError } from '../../movr/errors.ts';
import { addVehicle, countOwnedVehicles, listOwnedVehicles, retireVehicle } from '../../movr/vehicles.ts';
import { cityCentre } from '../../region-map.ts';
import { type FormErrors, type FormValues, NO_FORM_ERRORS, formErrors, formValues } from '../forms.ts';
import { pointForm } from './point-form.ts';
import { cityOr404, idOr404 } from '../lookups.ts';
import { requireUser, userOf } from '../plugins/auth.ts';
import type { SessionUser } from '../plugins/sessions.ts';
import { cityLabel, cityVehiclesPath, vehicleTypeLabel } from './format.ts';
import { colorLabel, vehicleRow } from './vehicles.ts';

export const MY_VEHICLES_PATH = '/vehicles/mine';
export const NEW_VEHICLE_PATH = '/vehicles/new';

const newVehicleBody = z.object({
  type: z.string().max(100).optional(),
  color: z.string().max(100).optional(),
  brand: z.string().max(1000).optional(),
  location: z.string().max(10_000).optional(),
  lat: z.string().max(100).optional(),
  long: z.string().max(100).optional(),
});
const listQuery = z.object({ cursor: z.string().max(500).optional() });

/** A point the domain refuses: stands in for a position typed wrongly, so every field is checked in one round. */
const UNUSABLE_POINT = { lat: Number.NaN, long: Number.NaN };

/** The optional position of the form: none when both fields are blank, else both checked. */
function typedPosition(values: FormValues, example: { lat: number; long: number }): { position: { lat: number; long: number } | null } | { errors: FieldError[] } {
  const lat = values.lat?.trim() ?? '';
  const long = values.long?.trim() ?? '';
  if (lat === '' && long === '') return { position: null };
  const result = pointForm(example).safeParse({ lat, long });
  if (result.success) return { position: { lat: Number(result.data.lat), long: Number(result.data.long) } };
  return { errors: result.error.issues.map((issue) => ({ path: String(issue.path[0] ?? ''), message: issue.message })) };
}
const vehicleParams = z.object({ city: z.string().max(100), id: z.string().max(100) });

export function retirePath(city: string, id: string): string {
  return `/vehicles/${encodeURIComponent(city)}/${encodeURIComponent(id)}/retire`;
}

export const myVehiclesPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, regions } = app;
  function renderForm(user: SessionUser, values: FormValues, errors: FormErrors) {
    return {
      title: 'Add a vehicle',
      nav: 'vehicles',
      action: NEW_VEHICLE_PATH,
      values,
      errors,
      cityLabel: cityLabel(user.city),
      pointExample: cityCentre(regions.findCity(user.city) ?? { name: user.city, region: '' }),
      typeOptions: [{ value: '', label: 'Choose a type' }, ...VEHICLE_TYPES.map((t) => ({ value: t, label: vehicleTypeLabel(t) }))],
      colorOptions: [{ value: '', label: 'Choose a colour' }, ...VEHICLE_COLORS.map((c) => ({ value: c, label: colorLabel(c) }))],
    };
  }

  app.get(MY_VEHICLES_PATH, { preHandler: requireUser, schema: { querystring: listQuery } }, async (request, reply) => {
    const user = userOf(request);
    const cursor = request.query.cursor?.trim() || undefined;
    const [owned, counts] = await Promise.all([listOwnedVehicles(db, user, { cursor }), countOwnedVehicles(db, user)]);
    const vehicles = owned.items.map((vehicle) => ({
      ...vehicleRow(vehicle),
      retired: vehicle.status === RETIRED,
      inUse: vehicle.status === 'in_use',
      added: vehicle.creationTime,
      retireAction: retirePath(vehicle.city, vehicle.id),
    }));
    const { active, retired } = counts;
    return reply.page('my-vehicles', {
      title: 'My vehicles',
      nav: 'vehicles',
      vehicles,
      summary: active + retired === 0 ? undefined : `${active} in service${retired > 0 ? `, ${retired} retired` : ''}`,
      firstHref: cursor ? MY_VEHICLES_PATH : undefined,
      nextHref: owned.nextCursor ? `${MY_VEHICLES_PATH}?cursor=${encodeURIComponent(owned.nextCursor)}` : undefined,
      cityLabel: cityLabel(user.city),
      cityHref: cityVehiclesPath(user.city),
      newHref: NEW_VEHICLE_PATH,
    });
  });

  app.get(NEW_VEHICLE_PATH, { preHandler: requireUser }, async (request, reply) => {
    return reply.page('vehicle-new', renderForm(userOf(request), {}, NO_FORM_ERRORS));
  });

  app.post(NEW_VEHICLE_PATH, { schema: { body: newVehicleBody }, preHandler: requireUser }, async (request, reply) => {
    const user = userOf(request);
    const values = formValues(request.body);
    const typed = typedPosition(values, cityCentre(regions.findCity(user.city) ?? { name: user.city, region: '' }));
    try {
      // The city is always the owner's home city: whatever else a form sends is ignored.
      const vehicle = await addVehicle(db, user, {
        type: values.type ?? '',
        color: values.color ?? '',
        brand: values.brand ?? null,
        location: values.location ?? '',
        position: 'errors' in typed ? UNUSABLE_POINT : typed.position,
      }, { regions });
      const what = [colorLabel(vehicle.color).toLowerCase(), vehicle.type ? vehicleTypeLabel(vehicle.type).toLowerCase() : 'vehicle'].join(' ');
      return reply.flash('success', `Your ${what} is listed in ${cityLabel(vehicle.city)} and ready to ride.`).redirect(MY_VEHICLES_PATH, 303);
    } catch (error) {
      if (isDomainError(error, 'vehicle_limit_reached')) {
        return reply.code(409).page('vehicle-new', renderForm(user, values, formErrors([{ path: '', message: error.message }])));
      }
      if (!(error instanceof ValidationError)) throw error;
      // The position's errors are the form's own (about the text typed), the rest the domain's.
      const fields = [...error.fields.filter((field) => !field.path.startsWith('position')), ...('errors' in typed ? typed.errors : [])];
      return reply.code(400).page('vehicle-new', renderForm(user, values, formErrors(fields)));
    }
  });

  app.post('/vehicles/:city/:id/retire', { schema: { params: vehicleParams }, preHandler: requireUser }, async (request, reply) => {
    const city = cityOr404(regions, request.params.city);
    const id = idOr404(request.params.id, 'vehicle');
    const user = userOf(request);
    try {
      // Someone else's vehicle: ForbiddenError, the friendly 403 page.
      const vehicle = await retireVehicle(db, user, city.name, id);
      const what = vehicle.type ? vehicleTypeLabel(vehicle.type).toLowerCase() : 'vehicle';
      return reply.flash('success', `Your ${what} at ${vehicle.currentLocation ?? 'its last location'} is retired. It is no longer offered to riders.`).redirect(MY_VEHICLES_PATH, 303);
    } catch (error) {
      if (isDomainError(error, 'vehicle_in_use', 'vehicle_retired')) {
        return reply.flash(error.code === 'vehicle_in_use' ? 'error' : 'info', error.message).redirect(MY_VEHICLES_PATH, 303);
      }
      throw error;
    }
  });
};
