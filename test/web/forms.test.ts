// The form helpers and the partials pages build their forms from.
import { Eta } from 'eta';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/movr/errors.ts';
import { VIEWS_DIR } from '../../src/web/app.ts';
import { fieldId, formErrors, formValues } from '../../src/web/forms.ts';
import { templateFormat } from '../../src/web/pages/format.ts';

const eta = new Eta({ views: VIEWS_DIR, autoEscape: true });
const render = (template: string, data: Record<string, unknown> = {}) =>
  eta.renderString(template, { fmt: templateFormat, csrfToken: 'token-123', ...data });

describe('formValues', () => {
  it('keeps text fields (the first of repeated ones) and drops the CSRF token', () => {
    expect(formValues({ _csrf: 't', name: 'Ada', tags: ['a', 'b'], n: 3, nested: { x: 1 } })).toEqual({
      name: 'Ada',
      tags: 'a',
    });
    expect(formValues(undefined)).toEqual({});
    expect(formValues('text')).toEqual({});
  });
});

describe('formErrors', () => {
  it('gives a summary and one message per field', () => {
    const error = new ValidationError('Check the form.', [
      { path: 'username', message: 'Enter a username' },
      { path: 'username', message: 'Too short' },
      { path: 'password', message: 'Enter a password' },
      { path: '', message: 'Those details do not match.' },
    ]);
    expect(formErrors(error)).toEqual({
      summary: [
        { path: 'username', message: 'Enter a username' },
        { path: 'password', message: 'Enter a password' },
        { path: '', message: 'Those details do not match.' },
      ],
      byField: { username: 'Enter a username', password: 'Enter a password' },
    });
  });

  it('uses the error message when no field is named', () => {
    expect(formErrors(new ValidationError('Something is off.'))).toEqual({
      summary: [{ path: '', message: 'Something is off.' }],
      byField: {},
    });
  });

  it('names field ids the way the partials do', () => {
    expect(fieldId('end_address')).toBe('field-end_address');
    expect(fieldId('a.b c')).toBe('field-a-b-c');
  });
});

describe('partials', () => {
  it('csrf: the hidden token field', () => {
    expect(render(`<%~ include('./partials/csrf') %>`).trim()).toBe(
      '<input type="hidden" name="_csrf" value="token-123">',
    );
  });

  it('field: label, value, hint and error wired up for assistive technology', () => {
    const html = render(`<%~ include('./partials/field', { field: it.f }) %>`, {
      f: { name: 'username', label: 'Username', value: 'a"<b', hint: 'Letters only', error: 'Too short', required: true },
    });
    expect(html).toContain('<label class="field__label" for="field-username">Username</label>');
    expect(html).toContain('<p class="field__hint" id="field-username-hint">Letters only</p>');
    expect(html).toMatch(/<p class="field__error" id="field-username-error">.*Too short<\/p>/);
    expect(html).toMatch(
      /<input class="field__input" id="field-username" name="username" type="text" value="a&quot;&lt;b" aria-describedby="field-username-hint field-username-error" aria-invalid="true" required>/,
    );
    expect(html).toContain('field--invalid');
  });

  it('field: a valid field has no error markup, and passwords are never echoed', () => {
    const html = render(`<%~ include('./partials/field', { field: it.f }) %>`, {
      f: { name: 'password', label: 'Password', type: 'password', value: 'secret', autocomplete: 'current-password' },
    });
    expect(html).not.toContain('secret');
    expect(html).not.toContain('aria-invalid');
    expect(html).not.toContain('aria-describedby');
    expect(html).toContain('autocomplete="current-password"');
  });

  it('field: selects and textareas', () => {
    const select = render(`<%~ include('./partials/field', { field: it.f }) %>`, {
      f: {
        name: 'type',
        label: 'Type',
        type: 'select',
        value: 'bike',
        options: [
          { value: 'scooter', label: 'Scooter' },
          { value: 'bike', label: 'Bike' },
        ],
      },
    });
    expect(select).toContain('<option value="bike" selected>Bike</option>');
    expect(select).toContain('<option value="scooter">Scooter</option>');
    const textarea = render(`<%~ include('./partials/field', { field: it.f }) %>`, {
      f: { name: 'notes', label: 'Notes', type: 'textarea', value: '</textarea><b>', optional: true },
    });
    expect(textarea).toContain('&lt;/textarea&gt;&lt;b&gt;</textarea>');
    expect(textarea).toContain('(optional)');
  });

  it('error-summary: links each message to its field; nothing without errors', () => {
    const html = render(`<%~ include('./partials/error-summary', { errors: it.e }) %>`, {
      e: formErrors([
        { path: 'username', message: 'Enter a username' },
        { path: '', message: 'Try again.' },
      ]),
    });
    expect(html).toContain('role="alert"');
    expect(html).toContain('<li><a href="#field-username">Enter a username</a></li>');
    expect(html).toContain('<li>Try again.</li>');
    expect(render(`<%~ include('./partials/error-summary', { errors: it.e }) %>`, { e: formErrors([]) }).trim()).toBe('');
  });

  it('pagination: previous and next links', () => {
    const html = render(`<%~ include('./partials/pagination', { pagination: it.p }) %>`, {
      p: { previous: '/rides?page=1', next: undefined, label: 'Page 2' },
    });
    expect(html).toContain('aria-label="Pagination"');
    expect(html).toContain('href="/rides?page=1" rel="prev"');
    expect(html).toContain('Page 2');
    expect(html).toContain('aria-disabled="true"');
    expect(render(`<%~ include('./partials/pagination', { pagination: it.p }) %>`, { p: {} }).trim()).toBe('');
  });

  it('vehicle status badges and type icons', () => {
    expect(render(`<%~ include('./partials/vehicle-status', { status: 'in_use' }) %>`).trim()).toBe(
      '<span class="status-badge status-badge--in_use">In use</span>',
    );
    expect(render(`<%~ include('./partials/vehicle-icon', { type: 'scooter' }) %>`).trim()).toBe(
      '<span class="vehicle-icon vehicle-icon--scooter" role="img" aria-label="Scooter"></span>',
    );
    expect(render(`<%~ include('./partials/vehicle-icon', { type: 'bike', decorative: true }) %>`).trim()).toBe(
      '<span class="vehicle-icon vehicle-icon--bike" aria-hidden="true"></span>',
    );
  });
});
