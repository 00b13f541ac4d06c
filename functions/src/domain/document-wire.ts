/**
 * A Firestore write event's protobuf (`google.events.cloud.firestore.v1.DocumentEventData`, as
 * Eventarc delivers it), read for the top-level fields a handler names and nothing else.
 *
 * firebase-functions decodes the whole message twice per event (once for each side) and builds
 * a snapshot of every field: for a heartbeat, whose `metrics` map is most of its 12 KB, that is
 * nearly all of the trigger's CPU. Here every field not asked for is skipped by its length,
 * without decoding it. Values come out as the Admin SDK's `data()` gives them, but for
 * timestamps (an object with `toMillis()`, `toDate()`, `seconds`, `nanoseconds`), geo points (a
 * plain `{latitude, longitude}`) and references (the path as a string). Input that is not a
 * well-formed message throws (the trigger then lets firebase-functions decode it); a map entry
 * that repeats its key (no encoder writes one) is read by its first key.
 *
 * Field numbers, from the message definitions:
 * DocumentEventData { Document value = 1; Document old_value = 2; DocumentMask update_mask = 3; }
 * Document { string name = 1; map<string, Value> fields = 2; ... }   map entry { key = 1; value = 2; }
 * Value { bool boolean_value = 1; int64 integer_value = 2; double double_value = 3;
 *   string reference_value = 5; MapValue map_value = 6; LatLng geo_point_value = 8;
 *   ArrayValue array_value = 9; Timestamp timestamp_value = 10; NullValue null_value = 11;
 *   string string_value = 17; bytes bytes_value = 18; }
 * MapValue { map<string, Value> fields = 1; }  ArrayValue { repeated Value values = 1; }
 * Timestamp { int64 seconds = 1; int32 nanos = 2; }  LatLng { double latitude = 1; double longitude = 2; }
 * DocumentMask { repeated string field_paths = 1; }
 */

export interface WireTimestamp {
  seconds: number;
  nanoseconds: number;
  toMillis(): number;
  toDate(): Date;
}

export interface WireEvent {
  /** The document before the write; undefined when it did not exist. */
  before: Record<string, unknown> | undefined;
  /** After; undefined for a delete. */
  after: Record<string, unknown> | undefined;
  /** The update mask: the field paths an update changed (empty for a create or delete). */
  changed: string[];
}

/** Reads an event's two sides (only the `wanted` top-level fields) and its update mask. */
export function readDocumentEvent(data: Uint8Array, wanted: ReadonlySet<string>): WireEvent {
  const r = new Reader(data);
  const event: WireEvent = { before: undefined, after: undefined, changed: [] };
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === LEN) event.after = readDocument(r.sub(), wanted);
    else if (field === 2 && type === LEN) event.before = readDocument(r.sub(), wanted);
    else if (field === 3 && type === LEN) event.changed = readMask(r.sub());
    else r.skip(type);
  }
  return event;
}

function readDocument(r: Reader, wanted: ReadonlySet<string>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 2 && type === LEN) readEntry(r.sub(), fields, wanted);
    else r.skip(type);
  }
  return fields;
}

/** A map entry: its value decoded only if its key is wanted (keys come first as every encoder writes them; if not, the entry is decoded whole). */
function readEntry(r: Reader, into: Record<string, unknown>, wanted: ReadonlySet<string> | null) {
  let key: string | null = null;
  let value: unknown = null;
  let hasValue = false;
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === LEN) key = r.string();
    else if (field === 2 && type === LEN) {
      if (key !== null && wanted && !wanted.has(key)) r.skip(type);
      else {
        value = readValue(r.sub());
        hasValue = true;
      }
    } else r.skip(type);
  }
  if (key !== null && (!wanted || wanted.has(key))) into[key] = hasValue ? value : null;
}

function readValue(r: Reader): unknown {
  let value: unknown = null;
  while (r.more()) {
    const [field, type] = r.tag();
    switch (field) {
      case 1:
        value = r.varint() !== 0n;
        break;
      case 2:
        value = Number(BigInt.asIntN(64, r.varint()));
        break;
      case 3:
        value = r.double();
        break;
      case 5:
      case 17:
        value = r.string();
        break;
      case 18:
        value = Buffer.from(r.bytes());
        break;
      case 6:
        value = readMap(r.sub());
        break;
      case 8:
        value = readLatLng(r.sub());
        break;
      case 9:
        value = readArray(r.sub());
        break;
      case 10:
        value = readTimestamp(r.sub());
        break;
      case 11:
        r.skip(VARINT);
        value = null;
        break;
      default:
        r.skip(type);
    }
  }
  return value;
}

function readMap(r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === LEN) readEntry(r.sub(), out, null);
    else r.skip(type);
  }
  return out;
}

function readArray(r: Reader): unknown[] {
  const out: unknown[] = [];
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === LEN) out.push(readValue(r.sub()));
    else r.skip(type);
  }
  return out;
}

function readLatLng(r: Reader): { latitude: number; longitude: number } {
  const out = { latitude: 0, longitude: 0 };
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === I64) out.latitude = r.double();
    else if (field === 2 && type === I64) out.longitude = r.double();
    else r.skip(type);
  }
  return out;
}

function readTimestamp(r: Reader): WireTimestamp {
  let seconds = 0;
  let nanoseconds = 0;
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === VARINT) seconds = Number(BigInt.asIntN(64, r.varint()));
    else if (field === 2 && type === VARINT) nanoseconds = Number(BigInt.asIntN(32, r.varint()));
    else r.skip(type);
  }
  return timestamp(seconds, nanoseconds);
}

export function timestamp(seconds: number, nanoseconds: number): WireTimestamp {
  const millis = seconds * 1000 + Math.floor(nanoseconds / 1e6);
  return { seconds, nanoseconds, toMillis: () => millis, toDate: () => new Date(millis) };
}

function readMask(r: Reader): string[] {
  const out: string[] = [];
  while (r.more()) {
    const [field, type] = r.tag();
    if (field === 1 && type === LEN) out.push(r.string());
    else r.skip(type);
  }
  return out;
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** The protobuf wire format, as much of it as the messages above use. Malformed input throws. */
class Reader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  tag(): [number, number] {
    const tag = this.uint();
    return [tag >>> 3, tag & 7];
  }

  /** A varint known to fit 32 bits (a tag, a length), without BigInt. */
  uint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw new Error("malformed protobuf: varint");
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw new Error("malformed protobuf: varint");
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end || shift > 63n) throw new Error("malformed protobuf: varint");
      const byte = this.buf[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  }

  private length(): number {
    const n = this.uint();
    if (this.pos + n > this.end) throw new Error("malformed protobuf: length");
    return n;
  }

  /** A length-delimited field as a reader of its own; this one moves past it. */
  sub(): Reader {
    const n = this.length();
    const sub = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return sub;
  }

  bytes(): Uint8Array {
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString("utf8");
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new Error("malformed protobuf: double");
    const value = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readDoubleLE(0);
    this.pos += 8;
    return value;
  }

  skip(type: number): void {
    if (type === VARINT) {
      while ((this.buf[this.pos++] as number) >= 0x80) if (this.pos >= this.end) throw new Error("malformed protobuf: varint");
      if (this.pos > this.end) throw new Error("malformed protobuf: varint");
    } else if (type === I64) this.advance(8);
    else if (type === LEN) this.advance(this.length());
    else if (type === I32) this.advance(4);
    else throw new Error(`malformed protobuf: wire type ${type}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new Error("malformed protobuf: truncated");
    this.pos += n;
  }
}
