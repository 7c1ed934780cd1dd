// The user-facing error classes, Kamal style: every problem names its key path (or its file, line
// and column), the value and what is allowed, and all problems are reported together.
//
// - ConfigError: the stack configuration is wrong. `problems` holds one line per problem.
// - StackFileError (a ConfigError): a Pulumi.<stack>.yaml is missing, is not YAML or is not shaped
//   like a stack file. Its message is the problems alone, one line each, starting with
//   `<file>:<line>:<column>:` where the YAML parser knows the position.
// Anything else thrown from src/config is a bug, not a user error.

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    message?: string,
  ) {
    super(
      message ??
        `app-infra: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
          problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
    // A user error needs no stack trace, and formatting one is slow where it is printed: under
    // `pulumi up/preview` the SDK's handler inspects the error (@pulumi/pulumi cmd/run/error.js
    // defaultErrorMessage), and mapping the stack through source maps took 20-70 s of CPU after the
    // hcloud data sources had loaded (a refused preview: 38 s with the stack, 2 s without it).
    this.stack = undefined;
  }
}

export class StackFileError extends ConfigError {
  constructor(
    /** The file as the user would name it (relative to the working directory when inside it). */
    readonly file: string,
    problems: readonly string[],
  ) {
    super(problems, problems.join("\n"));
    this.name = "StackFileError";
  }
}

/** Short, printable rendering of a user value for an error message (never used for secrets). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "nothing";
  if (typeof value === "bigint") return value.toString();
  if (ArrayBuffer.isView(value)) return "binary data (a !!binary value)";
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
