// StackConfig, the parsed and validated stack configuration, is derived from the key table
// (keys.ts), so a key and its field cannot drift apart: adding a key adds its field, removing one
// removes it, and the compiler then points at every reader.
//
// The rules, applied to each entry of KEYS:
// - path `a/b/c` is the field `a.b.c`;
// - its type comes from the key's kind: int → number, bool → boolean, string → string,
//   enum → the union of its allowed values, stringList → string[], stringMap → Record<string, string>;
// - the field is optional when the key has neither a literal `default` nor `required`
//   (its default then comes from the stage preset or another key, decided in src/plan);
// - a `secret` key's value never enters StackConfig: `secrets.<path>` says whether it is set, and
//   index.ts reads the value as a Pulumi secret (pulumi-config.ts).
// Two fields are not keys: `stack` (the stack's name) and `registry`, which is present only when
// registry/server and registry/username are both set (parse.ts refuses one without the other).
import type { KEY_TABLE, KeyKind } from "./keys";
import type { Architecture, ServiceName, Stage, Target } from "./vocabulary";

type Key = (typeof KEY_TABLE)[number];

type ValueOf<K extends KeyKind> = K extends { type: "int" }
  ? number
  : K extends { type: "bool" }
    ? boolean
    : K extends { type: "enum"; allowed: readonly (infer A)[] }
      ? A
      : K extends { type: "string" }
        ? string
        : K extends { type: "stringList" }
          ? string[]
          : K extends { type: "stringMap" }
            ? Record<string, string>
            : never;

/** The value a key's path holds after parsing (optional keys may be undefined). */
export type ValueAt<P extends Key["path"]> = ValueOf<Extract<Key, { path: P }>["kind"]>;

type Field<Path extends string, V, Optional extends boolean> = Path extends `${infer Head}/${infer Rest}`
  ? { [H in Head]: Field<Rest, V, Optional> }
  : Optional extends true
    ? { [H in Path]?: V }
    : { [H in Path]: V };

type FieldOf<K> = K extends { path: infer P extends string; kind: infer Kind extends KeyKind }
  ? Field<P, ValueOf<Kind>, K extends { default: unknown } | { required: true } ? false : true>
  : never;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** Flattens an intersection of nested objects into one object type (readable in hovers). */
type Merge<T> = T extends readonly unknown[]
  ? T
  : T extends Record<string, unknown>
    ? { [K in keyof T]: Merge<T[K]> }
    : T;

type PlainKey = Exclude<Key, { secret: true }>;
type SecretPath = Extract<Key, { secret: true }>["path"];

/** Parsed, validated stack configuration: plain values, no Pulumi types. */
export type StackConfig = Merge<
  Omit<UnionToIntersection<FieldOf<PlainKey>>, "registry"> & {
    stack: string;
    registry?: { server: string; username: string };
    /** Which secret keys are set (their values are read by index.ts as Pulumi secrets only). */
    secrets: { [P in SecretPath]: boolean };
  }
>;

/** The memory keys every service has (services/<name>/memoryMb, reservationMb, swapMb). */
export type ServiceOverrides = StackConfig["services"]["bot"];

export type { Architecture, ServiceName, Stage, Target };
