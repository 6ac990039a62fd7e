/**
 * The Python objects the Planetoid pickles can produce, and the only globals a pickle may name.
 * Each global is an inert stand-in: it builds a plain data holder and never runs anything.
 */

export type PickleValue = null | boolean | number | Uint8Array | PickleValue[] | PyTuple | PyDict | PyGlobal | PyInstance;

/** Py2 `str` keys are decoded as latin-1 so `dict.get("format")` works. */
export type PyDictKey = number | string;
export type PyDict = Map<PyDictKey, PickleValue>;

export class PyTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** An object whose state arrives through the BUILD opcode. */
export abstract class PyInstance {
  abstract setState(state: PickleValue): void;
}

export class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly behaviour: { reduce?: (args: PyTuple) => PickleValue; newobj?: (args: PyTuple) => PickleValue } = {},
  ) {}
}

export type DTypeCode = "i4" | "f4";

export class DType extends PyInstance {
  constructor(readonly code: DTypeCode) {
    super();
  }

  override setState(state: PickleValue): void {
    const items = tupleItems(state, "numpy.dtype state", 8);
    if (items[0] !== 3) throw new Error(`numpy.dtype state version ${describe(items[0])} is not 3`);
    const byteOrder = items[1] instanceof Uint8Array ? latin1(items[1]) : undefined;
    // Only little-endian buffers are decoded; a '>' or '=' dtype would need a different reader.
    if (byteOrder !== "<") throw new Error(`numpy.dtype byte order ${describe(items[1])} is not '<'`);
    if (items[2] !== null || items[3] !== null || items[4] !== null) throw new Error("numpy.dtype with subarray, names or fields is not supported");
  }
}

export class NdArray extends PyInstance {
  shape: number[] = [];
  dtype: DType | undefined;
  bytes: Uint8Array = new Uint8Array(0);

  override setState(state: PickleValue): void {
    const [version, shape, dtype, isFortran, raw] = tupleItems(state, "numpy.ndarray state", 5);
    if (version !== 1) throw new Error(`numpy.ndarray state version ${describe(version)} is not 1`);
    const dims = intTuple(shape, "numpy.ndarray shape");
    if (!(dtype instanceof DType)) throw new Error(`numpy.ndarray dtype is ${describe(dtype)}`);
    if (isFortran !== false) throw new Error("Fortran-ordered numpy.ndarray is not supported");
    if (!(raw instanceof Uint8Array)) throw new Error(`numpy.ndarray data is ${describe(raw)}, not a byte string`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (raw.length !== count * 4) throw new Error(`numpy.ndarray data has ${raw.length} bytes, shape ${dims.join("x")} of ${dtype.code} needs ${count * 4}`);
    this.shape = dims;
    this.dtype = dtype;
    this.bytes = raw;
  }
}

export class CsrMatrix extends PyInstance {
  state: PyDict = new Map();

  override setState(state: PickleValue): void {
    if (!(state instanceof Map)) throw new Error(`csr_matrix state is ${describe(state)}, not a dict`);
    this.state = state;
  }
}

const ndarrayClass = new PyGlobal("numpy.ndarray");
const listClass = new PyGlobal("__builtin__.list");

const GLOBALS = new Map<string, PyGlobal>([
  [
    "numpy.core.multiarray\n_reconstruct",
    new PyGlobal("numpy.core.multiarray._reconstruct", {
      reduce: (args) => {
        if (args.items[0] !== ndarrayClass) throw new Error(`_reconstruct of ${describe(args.items[0])} is not supported`);
        return new NdArray();
      },
    }),
  ],
  ["numpy\nndarray", ndarrayClass],
  [
    "numpy\ndtype",
    new PyGlobal("numpy.dtype", {
      reduce: (args) => {
        const code = args.items[0] instanceof Uint8Array ? latin1(args.items[0]) : undefined;
        if (code !== "i4" && code !== "f4") throw new Error(`numpy.dtype ${describe(args.items[0])} is not supported (only i4, f4)`);
        return new DType(code);
      },
    }),
  ],
  ["scipy.sparse.csr\ncsr_matrix", new PyGlobal("scipy.sparse.csr.csr_matrix", { newobj: () => new CsrMatrix() })],
  [
    "collections\ndefaultdict",
    new PyGlobal("collections.defaultdict", {
      reduce: (args) => {
        if (args.items.length !== 1 || args.items[0] !== listClass) throw new Error("only defaultdict(list) is supported");
        return new Map();
      },
    }),
  ],
  ["__builtin__\nlist", listClass],
]);

/** The whitelisted stand-in for `module.name`, or undefined. */
export function resolveGlobal(module: string, name: string): PyGlobal | undefined {
  return GLOBALS.get(`${module}\n${name}`);
}

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

export function describe(value: PickleValue | undefined): string {
  if (value === undefined) return "missing";
  if (value === null) return "None";
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (value instanceof Uint8Array) return value.length <= 32 ? JSON.stringify(latin1(value)) : `bytes[${value.length}]`;
  if (Array.isArray(value)) return `list[${value.length}]`;
  if (value instanceof PyTuple) return `tuple[${value.items.length}]`;
  if (value instanceof Map) return `dict[${value.size}]`;
  if (value instanceof PyGlobal) return value.qualname;
  return value.constructor.name;
}

export function tupleItems(value: PickleValue | undefined, what: string, length?: number): readonly PickleValue[] {
  if (!(value instanceof PyTuple)) throw new Error(`${what} is ${describe(value)}, not a tuple`);
  if (length !== undefined && value.items.length !== length) throw new Error(`${what} has ${value.items.length} items, expected ${length}`);
  return value.items;
}

/** A tuple of non-negative ints, such as a shape. */
export function intTuple(value: PickleValue | undefined, what: string, length?: number): number[] {
  return tupleItems(value, what, length).map((item) => {
    if (typeof item !== "number" || !Number.isInteger(item) || item < 0) throw new Error(`${what} holds ${describe(item)}, not a non-negative int`);
    return item;
  });
}
