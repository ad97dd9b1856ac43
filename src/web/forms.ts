// Helpers for HTML forms: reading an urlencoded body, and turning validation errors into what
// the form templates show (an error summary at the top, a message under each field).
import type { FieldError } from '../movr/errors.ts';
import { ValidationError } from '../movr/errors.ts';
import { CSRF_FIELD } from './plugins/csrf.ts';

/** Form values as sent, one string per field (the first, if a field was sent twice); no `_csrf`. */
export type FormValues = Record<string, string>;

/**
 * The fields of an urlencoded form body as strings, to validate and to put back into the form
 * when it is shown again. Leaves out the CSRF token and anything that is not text.
 */
export function formValues(body: unknown): FormValues {
  const values: FormValues = {};
  if (typeof body !== 'object' || body === null) return values;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name === CSRF_FIELD) continue;
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') values[name] = first;
  }
  return values;
}

export interface FormErrors {
  /** For the error summary, in the order the fields appear: `{ path, message }`. */
  summary: FieldError[];
  /** The message to show under each field, by field name (the path). */
  byField: Record<string, string>;
}

export const NO_FORM_ERRORS: FormErrors = Object.freeze({ summary: [], byField: {} }) as FormErrors;

/**
 * What a form shows for a validation error: every field's first message. A message about the
 * input as a whole (path '') appears in the summary only.
 */
export function formErrors(error: ValidationError | readonly FieldError[]): FormErrors {
  const fields = error instanceof ValidationError ? error.fields : error;
  const summary: FieldError[] = [];
  const byField: Record<string, string> = {};
  for (const field of fields) {
    if (field.path !== '' && byField[field.path] !== undefined) continue;
    if (field.path !== '') byField[field.path] = field.message;
    summary.push({ path: field.path, message: field.message });
  }
  if (summary.length === 0 && error instanceof ValidationError) summary.push({ path: '', message: error.message });
  return { summary, byField };
}

/** The id of a form field's input, as the field partial writes it (for summary links). */
export function fieldId(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}
