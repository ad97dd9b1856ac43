// Runs in every test file (vitest setupFiles).
import { afterAll } from 'vitest';
import { removeTestHomes } from './config.ts';

afterAll(() => removeTestHomes());
