import type { CommandContext, CommandOutput } from '../commands.js';
import { transaction } from '../core/db/db.js';
import { isAppError } from '../core/errors/errors.js';
import { loadKeyRing } from '../core/secrets/keys.js';
import { randomBase62 } from '../core/secrets/secrets.js';
import { totpPurpose, totpUri } from '../core/users/totp.js';
import { createOperatorUser } from '../core/users/users.js';
import { productionMode } from './api.js';

/**
 * `payloom operator create-user --email EMAIL [--role admin|support] [--totp|--no-totp]`: the first
 * console user. Prints a one-time password (and, with TOTP — the default in production mode — the
 * otpauth:// URI to add to an authenticator app). Both are shown once.
 */
export async function operatorCreateUser(
  args: readonly string[],
  ctx: CommandContext,
): Promise<CommandOutput> {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const email = value('--email');
  const role = value('--role') ?? 'admin';
  if (!email || (role !== 'admin' && role !== 'support')) {
    return {
      exitCode: 1,
      stdout: '',
      stderr: 'usage: payloom operator create-user --email EMAIL [--role admin|support] [--totp|--no-totp]\n',
    };
  }
  const totp = args.includes('--totp')
    ? true
    : args.includes('--no-totp')
      ? false
      : productionMode(ctx.config.baseUrl);
  const keys = await loadKeyRing(ctx.database.db, ctx.config.secretKey);
  const password = randomBase62(24);
  try {
    const created = await transaction(ctx.database.db, (tx) =>
      createOperatorUser(tx, { email, role, password, totp, totpKey: keys.derive(totpPurpose) }, new Date()),
    );
    const lines = [
      `operator user ${created.user.id} (${created.user.email}, ${created.user.role})`,
      `password: ${password}`,
    ];
    if (created.totpSecret)
      lines.push(`TOTP (add to an authenticator app): ${totpUri(created.totpSecret, created.user.email)}`);
    lines.push(`Sign in at ${ctx.config.baseUrl}/console/signin`);
    return { exitCode: 0, stdout: `${lines.join('\n')}\n`, stderr: '' };
  } catch (error) {
    if (isAppError(error)) return { exitCode: 1, stdout: '', stderr: `${error.message}\n` };
    throw error;
  }
}
