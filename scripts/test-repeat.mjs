#!/usr/bin/env node
/**
 * npm run test:repeat -- N [--hogs K]
 *
 * Runs the whole `npm test` of this checkout N times, one after another, alternating a quiet
 * run and a run beside a CPU hog (K busy-loop processes, default one per core: both cores of
 * a 2-core machine), to show the suite passes every time and not only when the machine is
 * idle. Prints each run's result, duration and load average, then `N passed, M failed`.
 * A failing run's full output is kept (its path is printed); passing runs' logs are deleted.
 * The hogs are killed after each run, on Ctrl-C, on failure, and they exit by themselves if
 * this script dies (they watch their parent). Exit code 0 when every run passed.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npm run test:repeat -- N [--hogs K]   (N runs of npm test, every second one beside K busy-loop processes; K defaults to the number of cores)';

function parseArgs(argv) {
  let n = null, hogs = availableParallelism();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--hogs') {
      hogs = Number(argv[++i]);
      if (!Number.isInteger(hogs) || hogs < 1) fail(`--hogs: expected a positive integer, got ${JSON.stringify(argv[i])}`);
    } else if (n === null && /^\d+$/.test(a) && Number(a) > 0) n = Number(a);
    else fail(`unexpected argument ${JSON.stringify(a)}`);
  }
  if (n === null) fail('the number of runs N is missing');
  return { n, hogs };
}

function fail(message) {
  console.error(`test:repeat: ${message}\n${USAGE}`);
  process.exit(2);
}

// A busy loop that exits when its parent (this script) is gone, even if this script is killed
// with SIGKILL and cannot clean up.
const HOG = 'const p = process.ppid; for (;;) { const t = Date.now(); while (Date.now() - t < 200); if (process.ppid !== p) process.exit(0); }';
let hogProcs = [];
function startHogs(k) {
  hogProcs = Array.from({ length: k }, () => spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));
}
function stopHogs() {
  for (const h of hogProcs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
  hogProcs = [];
}

let current = null; // the running `npm test`, in its own process group
function killCurrent(signal) {
  if (current === null || current.exitCode !== null || current.signalCode !== null) return;
  try { process.kill(-current.pid, signal); } catch { current.kill(signal); }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopHogs();
    killCurrent('SIGTERM');
    console.error(`\ntest:repeat: ${sig}: stopped (hogs killed)`);
    process.exit(130);
  });
}
process.on('exit', stopHogs);

/** One `npm test`, its output to `log`; resolves with its exit code and the 1-minute load averages seen. */
function runOnce(log) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log);
    const loads = [loadavg()[0]];
    const sampler = setInterval(() => loads.push(loadavg()[0]), 5_000);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const env = { ...process.env, NO_COLOR: '1' }; // plain text in the log
    delete env.FORCE_COLOR;
    current = spawn(npm, ['test'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    current.stdout.pipe(out, { end: false });
    current.stderr.pipe(out, { end: false });
    current.on('error', (e) => { clearInterval(sampler); reject(e); });
    current.on('close', (code, signal) => {
      clearInterval(sampler);
      loads.push(loadavg()[0]);
      current = null;
      out.end(() => resolve({ code: code ?? (signal ? 128 : 1), loads }));
    });
  });
}

/** vitest's count lines ("Test Files  41 passed (41)", "Tests  612 passed | 3 skipped (615)"), joined. */
function counts(log) {
  const lines = readFileSync(log, 'utf8').split('\n');
  return lines.filter((l) => /^\s*(Test Files|Tests)\s/.test(l)).map((l) => l.trim().replace(/\s+/g, ' ')).join('; ');
}

/** The lines of a vitest log that name what failed (at most a few). */
function failures(log) {
  const lines = readFileSync(log, 'utf8').split('\n');
  const named = lines.filter((l) => /^\s*(FAIL\s|×\s|❯ .*\(\d+ tests? \|.*failed)|error TS\d+/.test(l)).map((l) => l.trim());
  return [...new Set(named)].slice(0, 8);
}

const { n, hogs } = parseArgs(process.argv.slice(2));
if (!existsSync(join(ROOT, 'node_modules'))) fail(`${ROOT}node_modules is missing: run npm ci first`);
const logDir = mkdtempSync(join(tmpdir(), 'regula-test-repeat-'));
console.log(`test:repeat: ${n} runs of npm test in ${ROOT}, every second one beside ${hogs} busy-loop process${hogs > 1 ? 'es' : ''} (${availableParallelism()} cores)`);
const results = [];
for (let i = 1; i <= n; i++) {
  const hog = i % 2 === 0;
  const log = join(logDir, `run-${i}${hog ? '-hog' : ''}.log`);
  if (hog) startHogs(hogs);
  const t0 = Date.now();
  let r;
  try {
    r = await runOnce(log);
  } finally {
    stopHogs();
  }
  const seconds = (Date.now() - t0) / 1000;
  const ok = r.code === 0;
  results.push({ hog, ok });
  const load = `load ${r.loads[0].toFixed(2)} → ${r.loads[r.loads.length - 1].toFixed(2)} (max ${Math.max(...r.loads).toFixed(2)})`;
  console.log(`run ${String(i).padStart(String(n).length)}/${n} ${hog ? `beside ${hogs} hogs` : 'quiet        '}  ${ok ? 'PASS' : 'FAIL'}  ${seconds.toFixed(1).padStart(6)} s  ${load}  ${counts(log)}`);
  if (ok) rmSync(log, { force: true });
  else {
    for (const l of failures(log)) console.log(`    ${l}`);
    console.log(`    exit code ${r.code}; full log kept: ${log}`);
  }
}
const count = (sel) => results.filter(sel).length;
const passed = count((r) => r.ok), failed = n - passed;
console.log(`quiet: ${count((r) => !r.hog && r.ok)} of ${count((r) => !r.hog)} passed; beside the hogs: ${count((r) => r.hog && r.ok)} of ${count((r) => r.hog)} passed`);
if (failed === 0) rmSync(logDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
