// A worker process for the bill-payment kill -9 test: Payloom's job runner (built code) with the
// bill-payment handlers and a biller whose vends are rows in `probe_vends`, so they survive the process.
// With HANG=1 a vend is recorded and then never answers, so the worker can be killed mid-vend.
import { sql } from 'kysely';
import { openPostgres } from '../../dist/src/core/db/db.js';
import { startJobRunner } from '../../dist/src/core/jobs/runner.js';
import { billPaymentJobHandlers } from '../../dist/src/products/bill-payment/index.js';
import { loadKeyRing } from '../../dist/src/core/secrets/keys.js';

const database = await openPostgres(process.env.DATABASE_URL, 4);
const db = database.db;
const hang = process.env.HANG === '1';

const vendOf = (row) => ({
  accountNumber: row.account_number,
  productCode: row.product_code,
  amount: { amountMinor: BigInt(row.amount_minor), currency: row.currency },
  receiptNumber: `RCP${row.reference.slice(0, 12)}`,
  token: '12345678901234567890',
});

const biller = {
  id: 'biller-simulator',
  capabilities: () => ({ currencies: ['ZAR'], products: [] }),
  validateAccount: async () => ({ status: 'not_sent', rawCode: 'UNUSED' }),
  async vend(request) {
    await sql`INSERT INTO probe_vends (reference, account_number, product_code, amount_minor, currency, pid)
              VALUES (${request.reference}, ${request.accountNumber}, ${request.productCode},
                      ${request.amount.amountMinor.toString()}, ${request.amount.currency}, ${process.pid})`.execute(
      db,
    );
    if (hang) await new Promise(() => undefined);
    const { rows } =
      await sql`SELECT * FROM probe_vends WHERE reference = ${request.reference} LIMIT 1`.execute(db);
    return { status: 'succeeded', rawCode: '0000', data: vendOf(rows[0]) };
  },
  async status(request) {
    const { rows } =
      await sql`SELECT * FROM probe_vends WHERE reference = ${request.reference} LIMIT 1`.execute(db);
    if (rows.length === 0) return { status: 'not_sent', rawCode: 'NOT_FOUND' };
    return { status: 'succeeded', rawCode: '0000', data: vendOf(rows[0]) };
  },
};

const handlers = new Map(
  billPaymentJobHandlers(
    { billers: new Map([['biller-simulator', biller]]), fundingSources: new Map() },
    await loadKeyRing(db, undefined),
  ),
);
const log = { info: () => undefined, error: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`) };
startJobRunner(db, handlers, log, { leaseSeconds: 1 });
process.stdout.write('worker ready\n');
