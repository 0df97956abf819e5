import type { Environment } from '../core/db/schema.js';
import { formatMoney } from './ui.js';
import type { Stats } from './stats.js';

const width = 720;
const height = 220;
const pad = { left: 40, right: 10, top: 10, bottom: 30 };

function daysOf(stats: Stats): string[] {
  const out: string[] = [];
  for (let t = Date.parse(stats.from); t < Date.parse(stats.to); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** Stacked daily bars (succeeded / failed / pending) as inline SVG drawn on the server: no chart library. */
function CountChart(props: { stats: Stats }) {
  const days = daysOf(props.stats);
  const per = new Map<string, { succeeded: number; failed: number; pending: number }>();
  for (const row of props.stats.days) {
    const slot = per.get(row.day) ?? { succeeded: 0, failed: 0, pending: 0 };
    slot[row.outcome] += row.count;
    per.set(row.day, slot);
  }
  const max = Math.max(1, ...[...per.values()].map((v) => v.succeeded + v.failed + v.pending));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const barW = Math.max(2, plotW / Math.max(days.length, 1) - 2);
  const y = (n: number) => (n / max) * plotH;
  return (
    <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-count-title">
      <title id="chart-count-title">Payments per day by outcome</title>
      <text x={4} y={pad.top + 10}>
        {max}
      </text>
      <text x={4} y={height - pad.bottom}>
        0
      </text>
      {days.map((day, i) => {
        const v = per.get(day) ?? { succeeded: 0, failed: 0, pending: 0 };
        const x = pad.left + i * (plotW / days.length);
        let base = height - pad.bottom;
        const bars = (
          [
            ['succeeded', 'bar-ok'],
            ['failed', 'bar-bad'],
            ['pending', 'bar-pending'],
          ] as const
        ).map(([key, cls]) => {
          const h = y(v[key]);
          base -= h;
          return h > 0 ? (
            <rect
              class={cls}
              x={x}
              y={base}
              width={barW}
              height={h}
              data-day={day}
              data-outcome={key}
              data-count={v[key]}
            >
              <title>{`${day}: ${v[key]} ${key}`}</title>
            </rect>
          ) : null;
        });
        return (
          <g>
            {bars}
            {i % Math.ceil(days.length / 6) === 0 ? (
              <text x={x} y={height - 10}>
                {day.slice(5)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

export function ChartSection(props: {
  stats: Stats;
  action: string;
  env?: Environment;
  apiPath: string;
  merchantId?: string;
}) {
  const { stats } = props;
  const volume = new Map<string, bigint>();
  const byProduct = new Map<string, number>();
  for (const row of stats.days) {
    if (row.outcome === 'succeeded')
      volume.set(row.currency, (volume.get(row.currency) ?? 0n) + BigInt(row.volume_minor));
    byProduct.set(
      `${row.product} · ${row.outcome}`,
      (byProduct.get(`${row.product} · ${row.outcome}`) ?? 0) + row.count,
    );
  }
  const from = stats.from.slice(0, 10);
  const to = new Date(Date.parse(stats.to) - 86_400_000).toISOString().slice(0, 10);
  const query = new URLSearchParams({ from, to });
  return (
    <>
      <form method="get" action={props.action} class="filters">
        {props.env ? <input type="hidden" name="env" value={props.env} /> : null}
        <div class="field">
          <label for="chart-from">From</label>
          <input id="chart-from" type="date" name="from" value={from} />
        </div>
        <div class="field">
          <label for="chart-to">To</label>
          <input id="chart-to" type="date" name="to" value={to} />
        </div>
        <button type="submit">Show</button>
      </form>
      <div class="kpis">
        <div class="kpi" data-kpi="count">
          <span>Payments</span>
          <b>{stats.totals.count}</b>
        </div>
        <div class="kpi" data-kpi="success-rate">
          <span>Success rate</span>
          <b>
            {stats.totals.success_rate === null ? '—' : `${(stats.totals.success_rate * 100).toFixed(1)} %`}
          </b>
        </div>
        {[...volume.entries()].map(([currency, minor]) => (
          <div class="kpi" data-kpi={`volume-${currency}`}>
            <span>Volume {currency}</span>
            <b>{formatMoney(minor, currency)}</b>
          </div>
        ))}
      </div>
      <div class="chart">
        <CountChart stats={stats} />
        <p class="legend">
          <span>
            <span class="swatch ok"></span>succeeded
          </span>
          <span>
            <span class="swatch bad"></span>failed
          </span>
          <span>
            <span class="swatch pending"></span>pending
          </span>
        </p>
      </div>
      <h2>By product and outcome</h2>
      {byProduct.size === 0 ? (
        <p class="empty">No payments in this range. Make one with Try It, then come back.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Product · outcome</th>
                <th scope="col" class="num">
                  Payments
                </th>
              </tr>
            </thead>
            <tbody>
              {[...byProduct.entries()].map(([key, count]) => (
                <tr>
                  <td>{key}</td>
                  <td class="num">{count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">
        The numbers come from <code>{`GET ${props.apiPath}?${query.toString()}`}</code> (UTC days).
      </p>
    </>
  );
}
