// The key that signs and encrypts session cookies. In production SECRET_KEY is required (see
// config.ts); in development and tests MovR generates one once and keeps it in
// `<MOVR_HOME>/secret-key`, so sessions survive restarts without any setup.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

export const SECRET_KEY_FILE = 'secret-key';
const MIN_LENGTH = 32;

/** config.secretKey if set; else the key stored under config.homeDir, created on first use. */
export function resolveSecretKey(config: Config): string {
  if (config.secretKey !== undefined) return config.secretKey;
  const file = path.join(config.homeDir, SECRET_KEY_FILE);
  mkdirSync(config.homeDir, { recursive: true, mode: 0o700 });
  if (!existsSync(file)) {
    // Written to a temporary file, then linked into place: link() fails if the file exists, so
    // two processes starting at once agree on one key and neither reads a half-written file.
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temporary, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    try {
      chmodSync(temporary, 0o600); // the mode above is subject to the umask
      linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < MIN_LENGTH) {
    throw new Error(
      `The secret key in ${file} is shorter than ${MIN_LENGTH} characters: delete the file to have a new one generated, or set SECRET_KEY`,
    );
  }
  return key;
}
