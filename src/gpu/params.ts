/**
 * Uniform parameter structs defined once in TypeScript: the WGSL struct text and the packing
 * come from the same field list, so the two sides cannot drift apart.
 */

export type FieldType = 'u32' | 'i32' | 'f32';

export class ParamStruct<F extends Record<string, FieldType>> {
  /** Bytes, padded to 16 as uniform structs require. */
  readonly byteLength: number;
  private readonly names: (keyof F & string)[];

  constructor(
    readonly name: string,
    readonly fields: F,
  ) {
    this.names = Object.keys(fields);
    this.byteLength = Math.max(16, Math.ceil((this.names.length * 4) / 16) * 16);
  }

  /** `struct Name { a: u32, b: f32, … }` */
  get wgsl(): string {
    const body = this.names.map((n) => `  ${n}: ${this.fields[n]},`).join('\n');
    return `struct ${this.name} {\n${body}\n}\n`;
  }

  pack(values: { [K in keyof F]: number }, into: DataView, byteOffset: number): void {
    this.names.forEach((n, i) => {
      const v = values[n];
      if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`${this.name}.${n}: missing or NaN value`);
      const at = byteOffset + i * 4;
      switch (this.fields[n]) {
        case 'u32':
          if (v < 0 || !Number.isInteger(v)) throw new RangeError(`${this.name}.${n}: ${v} is not a u32`);
          into.setUint32(at, v, true);
          break;
        case 'i32':
          into.setInt32(at, v, true);
          break;
        case 'f32':
          into.setFloat32(at, v, true);
          break;
      }
    });
  }
}

export type ParamValues<P> = P extends ParamStruct<infer F> ? { [K in keyof F]: number } : never;
