/**
 * The names corpus (src/data/names.generated.ts) and the character tokenizer: the shipped
 * text equals the source files, and the split follows the rule exactly (counts and
 * checksums recorded from an independent Python implementation of the rule).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CharTokenizer, VOCAB_METADATA_KEY, loadNames, namesStream } from '../src/index.js';
import { FEMALE_NAMES_TXT, MALE_NAMES_TXT } from '../src/data/names.generated.js';

/** FNV-1a (32-bit) over the bytes of an ASCII string. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

// Recorded with Python from /work/shared/data/names: FNV-1a of the file bytes, and of each
// stream built by the rule (sorted(set(lower-cased lines, \r stripped, empty dropped)),
// index i % 10, '\n'.join(names) + '\n').
const ORIGINAL = {
  female: { bytes: 35153, lines: 4951, fnv: 0x3725b9c2 },
  male: { bytes: 26609, lines: 3898, fnv: 0x5691b28d },
  all: { names: 8422, chars: 59167, fnv: 0xb5ee072a },
  trainSmall: { names: 2528, chars: 17891, fnv: 0x07212fc6 },
  val: { names: 842, chars: 5887, fnv: 0xe2eb51ab },
  train: { names: 7580, chars: 53280, fnv: 0x6c39b286 },
};

const SHARED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data', 'names');
const hasShared = existsSync(join(SHARED, 'female.txt'));

describe('names corpus', () => {
  const d = loadNames();

  it('ships the source files byte for byte (recorded checksums)', () => {
    for (const [text, o] of [[FEMALE_NAMES_TXT, ORIGINAL.female], [MALE_NAMES_TXT, ORIGINAL.male]] as const) {
      expect(text.length).toBe(o.bytes);
      expect(text.split('\n').length - 1).toBe(o.lines);
      expect(fnv(text)).toBe(o.fnv);
    }
  });

  it.skipIf(!hasShared)('equals ../shared/data/names/*.txt exactly (skipped when ../shared is absent)', () => {
    expect(FEMALE_NAMES_TXT).toBe(readFileSync(join(SHARED, 'female.txt'), 'latin1'));
    expect(MALE_NAMES_TXT).toBe(readFileSync(join(SHARED, 'male.txt'), 'latin1'));
  });

  it('splits by the rule: counts and streams as recorded', () => {
    for (const key of ['trainSmall', 'val', 'train'] as const) {
      const s = namesStream(d[key]);
      expect([d[key].length, s.length, fnv(s)], key).toEqual([ORIGINAL[key].names, ORIGINAL[key].chars, ORIGINAL[key].fnv]);
    }
    const all = namesStream(d.names);
    expect([d.names.length, all.length, fnv(all)]).toEqual([ORIGINAL.all.names, ORIGINAL.all.chars, ORIGINAL.all.fnv]);
    expect(d.trainSmall.length).toBe(2528);
    expect(namesStream(d.trainSmall).length).toBe(17891);
  });

  it('the rule restated: sorted, distinct, lower case; val and train partition the names by i % 10', () => {
    const { names, train, trainSmall, val } = d;
    for (let i = 1; i < names.length; i++) expect(names[i - 1]! < names[i]!).toBe(true);
    expect(names.every((n) => n === n.toLowerCase() && n.length > 0 && !/[\r\n]/.test(n))).toBe(true);
    const index = new Map(names.map((n, i) => [n, i]));
    expect(val.every((n) => index.get(n)! % 10 === 9)).toBe(true);
    expect(train.every((n) => index.get(n)! % 10 <= 8)).toBe(true);
    expect(trainSmall.every((n) => index.get(n)! % 10 <= 2)).toBe(true);
    expect(train.length + val.length).toBe(names.length);
    expect(new Set([...train, ...val]).size).toBe(names.length);
    // every line of both files is some name, and every name is some line
    const lines = new Set([...FEMALE_NAMES_TXT.split('\n'), ...MALE_NAMES_TXT.split('\n')].map((l) => l.replaceAll('\r', '').toLowerCase()).filter((l) => l !== ''));
    expect(lines.size).toBe(names.length);
    expect(names.every((n) => lines.has(n))).toBe(true);
  });

  it('vocabulary: "\\n" then the sorted distinct characters, 28 tokens, and that is what fromText finds in the stream', () => {
    expect(d.vocab.length).toBe(28);
    expect(d.vocab.join('')).toBe('\n-abcdefghijklmnopqrstuvwxyz');
    expect(CharTokenizer.fromText(namesStream(d.names)).vocab).toEqual(d.vocab);
  });

  it('returns fresh copies', () => {
    d.names[0] = 'zzz';
    d.vocab.pop();
    const again = loadNames();
    expect(again.names[0]).toBe('aaren');
    expect(again.vocab.length).toBe(28);
  });

  it('namesStream rejects what would corrupt a stream', () => {
    expect(namesStream(['ab', 'c'])).toBe('ab\nc\n');
    expect(() => namesStream(['ab', 'c\nd'])).toThrow(/name 1: expected a non-empty string without/);
    expect(() => namesStream(['ab', ''])).toThrow(/name 1/);
    expect(() => namesStream('ab' as never)).toThrow(/expected an array of names, got "ab"/);
  });
});

describe('CharTokenizer', () => {
  const tok = new CharTokenizer(loadNames().vocab);

  it('encodes names to their vocabulary indices and decodes them back', () => {
    expect(tok.size).toBe(28);
    expect(Array.from(tok.encode('ann-marie\n'))).toEqual([2, 15, 15, 1, 14, 2, 19, 10, 6, 0]);
    expect(tok.decode([2, 15, 15, 1, 14, 2, 19, 10, 6, 0])).toBe('ann-marie\n');
    expect(tok.decode(new Int32Array(0))).toBe('');
    const s = namesStream(loadNames().val);
    expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('round-trips any text over any vocabulary (property, seed 15)', () => {
    const seed = 15;
    console.log(`fast-check seed ${seed}`);
    fc.assert(fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (text) => {
      const t = CharTokenizer.fromText(text);
      const ids = t.encode(text);
      expect(ids.length).toBe([...text].length);
      expect(ids.every((id) => id >= 0 && id < t.size)).toBe(true);
      expect(t.decode(ids)).toBe(text);
      for (let i = 1; i < t.size; i++) expect(t.vocab[i - 1]!.codePointAt(0)!).toBeLessThan(t.vocab[i]!.codePointAt(0)!);
      expect(CharTokenizer.fromMetadata(t.toMetadata()).vocab).toEqual(t.vocab);
    }), { seed });
  });

  it('stores its vocabulary as string metadata', () => {
    const meta = tok.toMetadata();
    expect(Object.keys(meta)).toEqual([VOCAB_METADATA_KEY]);
    expect(JSON.parse(meta[VOCAB_METADATA_KEY]!)).toEqual(tok.vocab);
    const back = CharTokenizer.fromMetadata({ format: 'pt', ...meta });
    expect(back.vocab).toEqual(tok.vocab);
    expect(Array.from(back.encode('zoe'))).toEqual(Array.from(tok.encode('zoe')));
  });

  it('rejects bad input with clear errors', () => {
    expect(() => tok.encode('Zoe')).toThrow(/character "Z" at index 0 is not in the vocabulary of 28/);
    expect(() => tok.encode(5 as never)).toThrow(/expected a string, got 5/);
    expect(() => tok.decode([0, 28])).toThrow(/id 1 is 28, expected an integer in \[0, 27\]/);
    expect(() => tok.decode([1.5])).toThrow(/id 0 is 1.5/);
    expect(() => tok.decode('ab' as never)).toThrow(/expected an array of token ids/);
    expect(() => new CharTokenizer(['a', 'b', 'a'])).toThrow(/entry 2 \("a"\) repeats entry 0/);
    expect(() => new CharTokenizer(['a', 'bc'])).toThrow(/entry 1: expected a single character, got "bc"/);
    expect(() => new CharTokenizer([])).toThrow(/expected 1 to 65536 characters/);
    expect(() => new CharTokenizer('ab' as never)).toThrow(/expected the vocabulary as an array/);
    expect(() => CharTokenizer.fromText('')).toThrow(/non-empty/);
    expect(() => CharTokenizer.fromMetadata({})).toThrow(/expected a string under "tokenizer.vocab", got undefined/);
    expect(() => CharTokenizer.fromMetadata({ [VOCAB_METADATA_KEY]: '[a' })).toThrow(/is not JSON/);
    expect(() => CharTokenizer.fromMetadata({ [VOCAB_METADATA_KEY]: '{"a":1}' })).toThrow(/expected the vocabulary as an array/);
    expect(() => CharTokenizer.fromMetadata({ [VOCAB_METADATA_KEY]: 'x'.repeat(65536 * 16 + 1) })).toThrow(/expected at most/);
  });
});
