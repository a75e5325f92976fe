/**
 * Terminal output for `npm start`: a progress bar with rate and time left on a TTY, plain
 * lines otherwise, and fixed-width tables.
 */

export interface Progress {
  /** Advances to `done` of `total` units. */
  update(done: number, note?: string): void;
  /** Ends the bar (prints the final state once). */
  end(note?: string): void;
}

const isTTY = Boolean(process.stdout.isTTY) && process.env.TERM !== 'dumb';

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** A progress display for `total` units of work named by `unit` (e.g. "epochs", "steps"). */
export function progress(label: string, total: number, unit: string): Progress {
  const t0 = performance.now();
  let lastPrint = 0;
  let lastPlainPct = -1;
  const render = (done: number, note = '', final = false) => {
    const el = (performance.now() - t0) / 1000;
    const rate = done / Math.max(el, 1e-9);
    const left = done > 0 ? (total - done) / rate : Infinity;
    const pct = total > 0 ? done / total : 1;
    if (isTTY) {
      const width = 24;
      const fill = Math.round(pct * width);
      const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
      const line = `  ${label} ${bar} ${done}/${total} ${unit}  ${rate.toFixed(rate < 10 ? 1 : 0)} ${unit}/s  ${final ? `done in ${fmtTime(el)}` : `${fmtTime(left)} left`}  ${note}`;
      process.stdout.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    } else {
      const step = Math.floor(pct * 4); // plain mode: a line at 0/25/50/75/100%
      if (final || step !== lastPlainPct) {
        lastPlainPct = step;
        console.log(`  ${label}: ${done}/${total} ${unit}, ${rate.toFixed(1)} ${unit}/s, ${final ? `done in ${fmtTime(el)}` : `${fmtTime(left)} left`}${note ? `, ${note}` : ''}`);
      }
    }
  };
  return {
    update(done, note) {
      const now = performance.now();
      if (now - lastPrint < 100 && done < total) return;
      lastPrint = now;
      render(done, note);
    },
    end(note) {
      render(total, note, true);
    },
  };
}

export type Cell = string | number | boolean | null;

/** Formats a number for a table: integers as is, others with `digits` significant digits. */
export function fmt(v: Cell, digits = 4): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

/** A fixed-width table; numbers right-aligned. */
export function table(head: string[], rows: Cell[][], digits = 4): string {
  const cells = rows.map((r) => r.map((c) => fmt(c, digits)));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], raw?: Cell[]) => '  ' + r.map((c, i) => (raw && typeof raw[i] === 'number' ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  return [line(head), '  ' + w.map((x) => '─'.repeat(x)).join('  '), ...cells.map((r, i) => line(r, rows[i]))].join('\n');
}
