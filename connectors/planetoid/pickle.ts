/**
 * A pickle protocol-2 reader for the opcodes the Planetoid files use. It is a data parser, not
 * an interpreter: GLOBAL resolves only to the inert stand-ins of `py-objects.ts`, and anything
 * else (another global, an unknown opcode, truncated input) is a PickleError.
 */
import { PyGlobal, PyInstance, PyTuple, describe, latin1, resolveGlobal } from "./py-objects.ts";
import type { PickleValue, PyDict, PyDictKey } from "./py-objects.ts";

const OPCODES = {
  PROTO: 0x80,
  STOP: 0x2e, // .
  GLOBAL: 0x63, // c
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  MARK: 0x28, // (
  EMPTY_TUPLE: 0x29, // )
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  TUPLE: 0x74, // t
  EMPTY_DICT: 0x7d, // }
  SETITEM: 0x73, // s
  SETITEMS: 0x75, // u
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  APPENDS: 0x65, // e
  NEWOBJ: 0x81,
  REDUCE: 0x52, // R
  BUILD: 0x62, // b
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  SHORT_BINSTRING: 0x55, // U
  BINSTRING: 0x54, // T
  NONE: 0x4e, // N
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
} as const;

const OPCODE_NAMES = new Map<number, string>(Object.entries(OPCODES).map(([name, code]) => [code, name]));

export class PickleError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly opcode: string,
    reason: string,
  ) {
    super(`${file}: pickle byte ${offset}, opcode ${opcode}: ${reason}`);
    this.name = "PickleError";
  }
}

/** Decodes one pickle. `file` only labels errors. */
export function loadPickle(bytes: Uint8Array, file: string): PickleValue {
  return new Unpickler(bytes, file).load();
}

function opcodeLabel(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, "0")}`;
  const name = OPCODE_NAMES.get(code);
  if (name !== undefined) return `${name} (${hex})`;
  const printable = code >= 0x20 && code < 0x7f ? ` '${String.fromCharCode(code)}'` : "";
  return `${hex}${printable}`;
}

/** Thrown by the byte readers; load() turns it into a PickleError at the current opcode. */
class Truncated extends Error {}

class Unpickler {
  private pos = 0;
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  load(): PickleValue {
    for (;;) {
      const offset = this.pos;
      if (offset >= this.bytes.length) throw new PickleError(this.file, offset, "(end of input)", "truncated: input ends before STOP");
      const code = this.bytes[offset]!;
      this.pos++;
      try {
        if (code === OPCODES.STOP) return this.finish();
        this.step(code);
      } catch (error) {
        if (error instanceof PickleError) throw error;
        const reason = error instanceof Truncated ? `truncated: ${error.message}` : (error as Error).message;
        throw new PickleError(this.file, offset, opcodeLabel(code), reason);
      }
    }
  }

  private finish(): PickleValue {
    if (this.marks.length > 0 || this.stack.length !== 1) throw new Error(`stack holds ${this.stack.length} values and ${this.marks.length} marks at STOP, expected one value`);
    return this.stack[0]!;
  }

  private step(code: number): void {
    switch (code) {
      case OPCODES.PROTO: {
        const version = this.u8();
        if (version !== 2) throw new Error(`protocol ${version} is not supported (only 2)`);
        return;
      }
      case OPCODES.GLOBAL: {
        const module = this.line();
        const name = this.line();
        const global = resolveGlobal(module, name);
        if (global === undefined) throw new Error(`global ${module}.${name} is not allowed`);
        return this.push(global);
      }
      case OPCODES.BINPUT:
        return this.put(this.u8());
      case OPCODES.LONG_BINPUT:
        return this.put(this.u32());
      case OPCODES.BINGET:
        return this.get(this.u8());
      case OPCODES.LONG_BINGET:
        return this.get(this.u32());
      case OPCODES.MARK:
        this.marks.push(this.stack.length);
        return;
      case OPCODES.EMPTY_TUPLE:
        return this.push(new PyTuple([]));
      case OPCODES.TUPLE1:
        return this.push(new PyTuple(this.popN(1)));
      case OPCODES.TUPLE2:
        return this.push(new PyTuple(this.popN(2)));
      case OPCODES.TUPLE3:
        return this.push(new PyTuple(this.popN(3)));
      case OPCODES.TUPLE:
        return this.push(new PyTuple(this.popMark()));
      case OPCODES.EMPTY_DICT:
        return this.push(new Map());
      case OPCODES.SETITEM:
        return this.setItems(this.popN(2));
      case OPCODES.SETITEMS:
        return this.setItems(this.popMark());
      case OPCODES.EMPTY_LIST:
        return this.push([]);
      case OPCODES.APPEND: {
        const item = this.pop();
        this.list().push(item);
        return;
      }
      case OPCODES.APPENDS: {
        const items = this.popMark();
        const list = this.list();
        for (const item of items) list.push(item);
        return;
      }
      case OPCODES.NEWOBJ: {
        const args = this.pop();
        const cls = this.pop();
        if (!(cls instanceof PyGlobal) || cls.behaviour.newobj === undefined) throw new Error(`${describe(cls)}.__new__ is not allowed`);
        if (!(args instanceof PyTuple)) throw new Error(`NEWOBJ arguments are ${describe(args)}, not a tuple`);
        return this.push(cls.behaviour.newobj(args));
      }
      case OPCODES.REDUCE: {
        const args = this.pop();
        const callable = this.pop();
        if (!(callable instanceof PyGlobal) || callable.behaviour.reduce === undefined) throw new Error(`calling ${describe(callable)} is not allowed`);
        if (!(args instanceof PyTuple)) throw new Error(`REDUCE arguments are ${describe(args)}, not a tuple`);
        return this.push(callable.behaviour.reduce(args));
      }
      case OPCODES.BUILD: {
        const state = this.pop();
        const target = this.top();
        if (!(target instanceof PyInstance)) throw new Error(`BUILD on ${describe(target)} is not allowed`);
        target.setState(state);
        return;
      }
      case OPCODES.BININT:
        return this.push(this.i32());
      case OPCODES.BININT1:
        return this.push(this.u8());
      case OPCODES.BININT2:
        return this.push(this.u16());
      case OPCODES.SHORT_BINSTRING:
        return this.push(this.bytesOf(this.u8()));
      case OPCODES.BINSTRING: {
        const length = this.i32();
        if (length < 0) throw new Error(`negative BINSTRING length ${length}`);
        return this.push(this.bytesOf(length));
      }
      case OPCODES.NONE:
        return this.push(null);
      case OPCODES.NEWTRUE:
        return this.push(true);
      case OPCODES.NEWFALSE:
        return this.push(false);
      default:
        throw new Error("unknown opcode");
    }
  }

  /** Advances past `length` bytes and returns where they start. */
  private advance(length: number): number {
    const at = this.pos;
    if (at + length > this.bytes.length) throw new Truncated(`needs ${length} bytes at ${at}, file has ${this.bytes.length}`);
    this.pos += length;
    return at;
  }

  private u8(): number {
    return this.bytes[this.advance(1)]!;
  }

  private u16(): number {
    return this.view.getUint16(this.advance(2), true);
  }

  private i32(): number {
    return this.view.getInt32(this.advance(4), true);
  }

  private u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  /** A view, not a copy: a Py2 `str` is raw bytes. */
  private bytesOf(length: number): Uint8Array {
    const at = this.advance(length);
    return this.bytes.subarray(at, at + length);
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new Truncated(`no newline after byte ${this.pos}`);
    const text = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  private push(value: PickleValue): void {
    this.stack.push(value);
  }

  private floor(): number {
    return this.marks.at(-1) ?? 0;
  }

  private pop(): PickleValue {
    if (this.stack.length <= this.floor()) throw new Error("stack underflow");
    return this.stack.pop()!;
  }

  private top(): PickleValue {
    if (this.stack.length <= this.floor()) throw new Error("stack underflow");
    return this.stack[this.stack.length - 1]!;
  }

  private popN(count: number): PickleValue[] {
    if (this.stack.length - count < this.floor()) throw new Error("stack underflow");
    return this.stack.splice(this.stack.length - count, count);
  }

  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw new Error("no MARK on the stack");
    return this.stack.splice(mark);
  }

  private put(index: number): void {
    this.memo.set(index, this.top());
  }

  private get(index: number): void {
    if (!this.memo.has(index)) throw new Error(`memo ${index} is not set`);
    this.push(this.memo.get(index)!);
  }

  private list(): PickleValue[] {
    const target = this.top();
    if (!Array.isArray(target)) throw new Error(`append to ${describe(target)}, not a list`);
    return target;
  }

  private setItems(flat: PickleValue[]): void {
    const target = this.top();
    if (!(target instanceof Map)) throw new Error(`setitem on ${describe(target)}, not a dict`);
    if (flat.length % 2 !== 0) throw new Error(`odd number (${flat.length}) of dict keys and values`);
    for (let i = 0; i < flat.length; i += 2) (target as PyDict).set(dictKey(flat[i]!), flat[i + 1]!);
  }
}

function dictKey(key: PickleValue): PyDictKey {
  if (typeof key === "number") return key;
  if (key instanceof Uint8Array) return latin1(key);
  throw new Error(`dict key ${describe(key)} is not supported (only int and str)`);
}
