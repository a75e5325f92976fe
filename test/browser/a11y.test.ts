/**
 * The demo page without a mouse and with a screen reader: every control has an accessible
 * name (as Chromium's accessibility tree computes it), every control is reached by Tab and
 * works from the keyboard, and axe-core finds no WCAG 2 A/AA violation (describeInChromium:
 * skipped, saying so, without Chromium; failing in CI).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import { join } from 'node:path';
import { SHOTS, describeInChromium, openDemo, type DemoPage } from './chromium.js';

/** Roles of the controls a user operates (Chromium's names for them). */
const WIDGETS = new Set(['button', 'slider', 'combobox', 'checkbox', 'switch', 'textbox', 'searchbox', 'spinbutton', 'radio', 'link', 'menuitem', 'tab', 'listbox']);
const CONTROLS = 'input, select, button, textarea, a[href], [tabindex]:not([tabindex="-1"])';
/** The WCAG 2.0 and 2.1 rule sets, levels A and AA. */
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

describeInChromium('demo page accessibility', () => {
  let demo: DemoPage;
  beforeAll(async () => { demo = await openDemo(); }, 90_000);
  afterAll(async () => { await demo?.close(); });

  it('every control has an accessible name in Chromium\'s accessibility tree', async () => {
    const { page, context } = demo;
    const cdp = await context.newCDPSession(page);
    try {
      const { nodes } = await cdp.send('Accessibility.getFullAXTree') as { nodes: { role?: { value: string }; name?: { value: string }; ignored: boolean; backendDOMNodeId?: number }[] };
      const widgets = nodes.filter((n) => !n.ignored && WIDGETS.has(n.role?.value ?? ''));
      // the tree sees every control of the DOM (none hidden from it by a role it maps elsewhere)
      const domControls = await page.locator(CONTROLS).count();
      expect(widgets.length).toBe(domControls);
      expect(domControls).toBeGreaterThanOrEqual(15);
      const unnamed = [];
      for (const n of widgets) {
        if ((n.name?.value ?? '').trim() !== '') continue;
        const { node } = await cdp.send('DOM.describeNode', { backendNodeId: n.backendDOMNodeId! }) as { node: { attributes?: string[] } };
        unnamed.push(`${n.role?.value} ${JSON.stringify(node.attributes ?? [])}`);
      }
      expect(unnamed).toEqual([]);
    } finally {
      await cdp.detach();
    }
  });

  it('Tab reaches every enabled control, in page order, and focus is visible', async () => {
    const { page } = demo;
    const expected = await page.locator(CONTROLS).evaluateAll((els) => els
      .filter((e) => !(e as HTMLButtonElement).disabled && (e as HTMLElement).offsetParent !== null)
      .map((e) => e.id));
    expect(expected.every((id) => id !== '')).toBe(true);
    await page.locator('body').focus();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const seen: string[] = [];
    for (let i = 0; i < expected.length + 5; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = document.activeElement as HTMLElement | null;
        if (e === null || e === document.body) return null;
        const style = getComputedStyle(e);
        return { id: e.id, outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
      });
      if (f === null) break;
      if (seen.includes(f.id)) break; // wrapped around
      seen.push(f.id);
      expect(f.outline, `focus ring on #${f.id}`).toBe(true);
    }
    expect(seen).toEqual(expected);
  });

  it('every slider moves with the arrow keys and says its value', async () => {
    const { page } = demo;
    const sliders = await page.locator('input[type="range"]').evaluateAll((els) => els.map((e) => e.id));
    expect(sliders.length).toBeGreaterThanOrEqual(6);
    for (const id of sliders) {
      const s = page.locator(`#${id}`);
      if (await s.isDisabled()) continue;
      const before = await s.inputValue();
      await s.focus();
      await page.keyboard.press('Home');
      const low = await s.inputValue();
      await page.keyboard.press('ArrowRight');
      const up = await s.inputValue();
      expect(Number(up), `#${id} ArrowRight`).toBeGreaterThan(Number(low));
      const text = await s.getAttribute('aria-valuetext');
      expect(text ?? '', `#${id} aria-valuetext`).not.toBe('');
      await s.fill(before);
    }
  });

  it('selects, the checkbox and the buttons work from the keyboard', async () => {
    const { page } = demo;
    const sel = page.getByTestId('optimizer-select');
    await sel.focus();
    await page.keyboard.press('ArrowDown');
    expect(await sel.inputValue()).toBe('AdamW');
    await page.keyboard.press('ArrowUp');
    expect(await sel.inputValue()).toBe('Adam');
    const box = page.getByTestId('dropout-scale');
    const checked = await box.isChecked();
    await box.focus();
    await page.keyboard.press('Space');
    expect(await box.isChecked()).toBe(!checked);
    await page.keyboard.press('Space');
    expect(await box.isChecked()).toBe(checked);
    await page.getByTestId('penalty-l2').focus();
    await page.keyboard.press('Space');
    expect(await page.getByTestId('penalty-l2').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('penalty-l1').focus();
    await page.keyboard.press('Enter');
    expect(await page.getByTestId('penalty-l1').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('sample-50').focus();
    await page.keyboard.press('Enter');
    expect(Number(await page.getByTestId('dropout-count').textContent())).toBeGreaterThanOrEqual(50);
  });

  it('axe-core (WCAG 2 A and AA) finds no violations', async () => {
    const r = await new AxeBuilder({ page: demo.page }).withTags(WCAG).analyze();
    const found = r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(found).toEqual([]);
    expect(r.passes.length).toBeGreaterThan(10);
    await demo.page.screenshot({ path: join(SHOTS, 'a11y-desktop.png'), fullPage: true });
    expect(demo.problems).toEqual([]);
  });
});
