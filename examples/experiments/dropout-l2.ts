/**
 * Dropout is a data-dependent L2 penalty for a linear model:
 * E_m[(y − Σⱼ wⱼxⱼmⱼ/(1−p))²] = (y − w·x)² + p/(1−p)·Σⱼ wⱼ²xⱼ².
 * The left side is estimated by Monte Carlo with regula's dropout kernel (M masks at once,
 * predictions by matmul), and compared with the right side within its standard error.
 */
import { seeded } from './seeded.js';
import type { Experiment, Result } from './types.js';

export const dropoutL2: Experiment = {
  id: 'dropout-l2',
  title: 'Dropout on a linear model is a data-dependent L2 penalty',
  async run(ctx): Promise<Result> {
    const { be } = ctx;
    const d = 8;
    const M = ctx.quick ? 20000 : 100000;
    const r = seeded(3);
    const x = Array.from({ length: d }, () => r.normal());
    const w = Array.from({ length: d }, () => r.normal());
    const y = 0.5;
    const wx = x.map((xi, j) => Math.fround(Math.fround(w[j]!) * Math.fround(xi)));
    const dot = wx.reduce((s, v) => s + v, 0);
    const ps = [0.1, 0.3, 0.5];
    const prog = ctx.progress('dropout = L2', ps.length, 'p');
    const rows = ps.map((p, k) => {
      const rowsT = be.tensor([M, d], Array.from({ length: M * d }, (_, i) => wx[i % d]!));
      const ones = be.tensor([d, 1], new Float32Array(d).fill(1));
      const pred = be.zeros([M, 1]);
      const rng = be.rng(100 + k);
      try {
        be.kernels.dropout(rowsT, rowsT, p, rng);
        be.kernels.matmul(pred, rowsT, ones);
        const pr = pred.data;
        let s = 0, s2 = 0;
        for (let i = 0; i < M; i++) { const e = (y - pr[i]!) ** 2; s += e; s2 += e * e; }
        const mc = s / M;
        const se = Math.sqrt((s2 / M - mc * mc) / (M - 1));
        const plain = (y - dot) ** 2;
        const penalty = (p / (1 - p)) * wx.reduce((acc, v) => acc + v * v, 0);
        prog.update(k + 1);
        return { p, mc, se, plain, penalty, analytic: plain + penalty, z: (mc - plain - penalty) / se, zPlain: (mc - plain) / se };
      } finally {
        rowsT.dispose(); ones.dispose(); pred.dispose(); rng.dispose();
      }
    });
    prog.end();
    const holds = rows.every((q) => Math.abs(q.z) <= 3 && Math.abs(q.zPlain) > 3);
    return {
      id: 'dropout-l2',
      title: this.title,
      claim: 'The Monte-Carlo mean of the dropout loss equals (y − w·x)² + p/(1−p)·Σⱼ wⱼ²xⱼ² within its standard error.',
      tables: [{
        caption: `one example, d = ${d}, ${M.toLocaleString('en-US')} masks per p`,
        head: ['p', 'MC mean loss', 'std. error', '(y − w·x)²', '+ penalty', 'analytic', 'z vs analytic', 'z vs plain'],
        rows: rows.map((q) => [q.p, q.mc, q.se, q.plain, q.penalty, q.analytic, q.z, q.zPlain]),
      }],
      figures: { d, samples: M, x, w, y, rows },
      verdict: {
        holds,
        detail: `|z| against the analytic value: ${rows.map((q) => Math.abs(q.z).toFixed(2)).join(', ')} (≤ 3); against the unpenalized loss: ${rows.map((q) => Math.abs(q.zPlain).toFixed(0)).join(', ')}`,
      },
    };
  },
};
