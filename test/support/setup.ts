// Runs in every test file (vitest setupFiles).
import { afterAll, beforeAll } from 'vitest';
import { warmUpPasswordStrength } from '../../src/movr/passwords.ts';
import { removeTestHomes } from './config.ts';

// The password strength estimator's dictionaries load once per process, blocking the event loop
// for about half a second: before any app of the file is built, so that load shedding
// (MOVR_MAX_EVENT_LOOP_DELAY_MS) never mistakes it for overload in the middle of a test.
beforeAll(() => warmUpPasswordStrength());

afterAll(() => removeTestHomes());
