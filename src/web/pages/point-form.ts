// A point typed into a form as two fields, latitude and longitude: the ride page's "record a
// location" and the city page's "nearest to me". Both fields are checked in one round, format
// and range together, and the examples are the city's own centre.
import { z } from 'zod';
import { Latitude, Longitude, coordinateText } from '../../movr/rules.ts';

const forms = new Map<string, z.ZodType<{ lat: string; long: string }>>();

/** The form's schema, with examples from `example` (a city's centre), rounded to 4 decimals. */
export function pointForm(example: { lat: number; long: number }) {
  const key = `${example.lat},${example.long}`;
  let form = forms.get(key);
  if (!form) {
    const round = (value: number) => Math.round(value * 10_000) / 10_000;
    form = z.object({
      lat: coordinateText(Latitude, 'latitude', round(example.lat)),
      long: coordinateText(Longitude, 'longitude', round(example.long)),
    });
    forms.set(key, form);
  }
  return form;
}
