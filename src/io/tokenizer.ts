/**
 * A character-level tokenizer: token id i stands for the character vocab[i]. Used by the GPT
 * examples (names in, names out); the vocabulary travels with the weights as string metadata
 * (`toMetadata()` / `fromMetadata()`, e.g. in a safetensors header) so a saved model can be
 * read back with the ids it was trained on.
 */
import { describe } from '../rules/errors.js';

/** The metadata key under which `toMetadata()` stores the vocabulary (a JSON array of strings). */
export const VOCAB_METADATA_KEY = 'tokenizer.vocab';

/** Largest vocabulary accepted (ids must fit the model's embedding table anyway). */
const MAX_VOCAB = 65_536;

/** Shows a character in messages: printable as itself, others (\n, controls) escaped. */
function showChar(c: string): string {
  return JSON.stringify(c);
}

/** A character-level tokenizer over a fixed vocabulary of distinct single characters (code points). */
export class CharTokenizer {
  /** The characters, in id order. */
  readonly vocab: readonly string[];
  readonly #ids: Map<string, number>;

  /**
   * `vocab`: distinct strings of one code point each, in id order (1 to 65,536 of them).
   * Throws, saying which entry is wrong, otherwise.
   */
  constructor(vocab: readonly string[]) {
    if (!Array.isArray(vocab)) throw new TypeError(`CharTokenizer: expected the vocabulary as an array of characters, got ${describe(vocab)}`);
    if (vocab.length < 1 || vocab.length > MAX_VOCAB) throw new RangeError(`CharTokenizer: expected 1 to ${MAX_VOCAB} characters in the vocabulary, got ${vocab.length}`);
    const ids = new Map<string, number>();
    // an index loop, not forEach: forEach skips the holes of a sparse array ([, 'a'])
    for (let i = 0; i < vocab.length; i++) {
      if (!Object.hasOwn(vocab, i)) throw new TypeError(`CharTokenizer: vocabulary entry ${i}: expected a single character, got a hole (a sparse array)`);
      const c: unknown = vocab[i];
      if (typeof c !== 'string' || [...c].length !== 1) throw new TypeError(`CharTokenizer: vocabulary entry ${i}: expected a single character, got ${describe(c)}`);
      const before = ids.get(c);
      if (before !== undefined) throw new RangeError(`CharTokenizer: vocabulary entry ${i} (${showChar(c)}) repeats entry ${before}`);
      ids.set(c, i);
    }
    this.vocab = Object.freeze([...vocab]);
    this.#ids = ids;
  }

  /** The sorted distinct characters (by code point) of `text`, as a tokenizer. */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string') throw new TypeError(`CharTokenizer.fromText: expected a string, got ${describe(text)}`);
    if (text.length === 0) throw new RangeError('CharTokenizer.fromText: expected a non-empty string, got ""');
    const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(chars);
  }

  /** Number of tokens (the model's vocabSize). */
  get size(): number {
    return this.vocab.length;
  }

  /** The ids of the characters of `text`; throws on a character outside the vocabulary. */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new TypeError(`CharTokenizer.encode: expected a string, got ${describe(text)}`);
    const out: number[] = [];
    let at = 0;
    for (const c of text) {
      const id = this.#ids.get(c);
      if (id === undefined) throw new RangeError(`CharTokenizer.encode: character ${showChar(c)} at index ${at} is not in the vocabulary of ${this.size} (${showChar(this.vocab.join(''))})`);
      out.push(id);
      at += c.length;
    }
    return Int32Array.from(out);
  }

  /** The text of token ids; throws on an id that is not an integer in [0, size − 1]. */
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw new TypeError(`CharTokenizer.decode: expected an array of token ids, got ${describe(ids)}`);
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new RangeError(`CharTokenizer.decode: id ${i} is ${describe(id)}, expected an integer in [0, ${this.size - 1}]`);
      }
      s += this.vocab[id]!;
    }
    return s;
  }

  /** The vocabulary as string metadata (`{ 'tokenizer.vocab': JSON array }`), to store beside the weights. */
  toMetadata(): Record<string, string> {
    return { [VOCAB_METADATA_KEY]: JSON.stringify(this.vocab) };
  }

  /** The tokenizer stored by `toMetadata()` in `metadata` (other keys ignored); throws when it is missing or malformed. */
  static fromMetadata(metadata: Record<string, string>): CharTokenizer {
    if (metadata === null || typeof metadata !== 'object') throw new TypeError(`CharTokenizer.fromMetadata: expected a record of strings, got ${describe(metadata)}`);
    const raw: unknown = Object.hasOwn(metadata, VOCAB_METADATA_KEY) ? metadata[VOCAB_METADATA_KEY] : undefined;
    if (typeof raw !== 'string') throw new TypeError(`CharTokenizer.fromMetadata: expected a string under "${VOCAB_METADATA_KEY}", got ${describe(raw)}`);
    // each entry is at most a few JSON characters ("\\u0000", a surrogate pair): bound before parsing
    if (raw.length > MAX_VOCAB * 16) throw new RangeError(`CharTokenizer.fromMetadata: "${VOCAB_METADATA_KEY}" is ${raw.length} characters, expected at most ${MAX_VOCAB * 16}`);
    let vocab: unknown;
    try {
      vocab = JSON.parse(raw);
    } catch (e) {
      throw new TypeError(`CharTokenizer.fromMetadata: "${VOCAB_METADATA_KEY}" is not JSON (${(e as Error).message})`);
    }
    return new CharTokenizer(vocab as string[]);
  }
}
