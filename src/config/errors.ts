// One user-facing error class, Kamal style: every problem names its key path, the value and what
// is allowed, and all problems are reported together.

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `app-infra: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Short, printable rendering of a user value for an error message (never used for secrets). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
