// What text of a host script is shipped. The scripts share functions through scripts/lib/*.sh,
// which a script sources from a checkout; but a script is shipped alone (on the SSH stdin as
// `bash -s`, or base64 in a payload and installed as one file), so the shipped text has each
// marked `source` line replaced by the library's text. Pure: the caller passes a reader of
// scripts/ (components/host.ts readScript).

/** Ends every line to inline; the only form accepted is {@link inlineLine}'s. */
export const INLINE_MARK = "# app-infra:inline";

const MARKED_SOURCE =
  /^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/(lib\/[a-z0-9-]+\.sh)" # app-infra:inline$/;

/** The line that inlines `lib/NAME.sh` (NAME: lower case, digits, dashes). */
export function inlineLine(lib: string): string {
  return `source "$(dirname "\${BASH_SOURCE[0]}")/${lib}" ${INLINE_MARK}`;
}

/**
 * `text` (scripts/`script`) with each marked line replaced by the library it names, without the
 * library's shebang, between two comments that name it. `read(path)` returns scripts/`path`, or
 * undefined when there is no such file. Throws, naming the file and line, on a marked line of
 * another form, a missing library, a library inlined twice, or a marked line inside a library
 * (one level only, so the shipped text is what the two files say).
 */
export function inlineLibraries(
  script: string,
  text: string,
  read: (path: string) => string | undefined,
): string {
  const seen = new Set<string>();
  return text
    .split("\n")
    .map((line, i) => {
      if (!line.includes(INLINE_MARK)) return line;
      const where = `scripts/${script}:${i + 1}`;
      const lib = MARKED_SOURCE.exec(line)?.[1];
      if (lib === undefined)
        throw new Error(`${where}: a line marked '${INLINE_MARK}' should read: ${inlineLine("lib/NAME.sh")}`);
      if (seen.has(lib)) throw new Error(`${where}: scripts/${lib} is inlined a second time`);
      seen.add(lib);
      const body = read(lib);
      if (body === undefined) throw new Error(`${where}: scripts/${lib}: no such library`);
      const nested = body.split("\n").findIndex((l) => l.includes(INLINE_MARK));
      if (nested >= 0)
        throw new Error(
          `${where}: scripts/${lib}:${nested + 1} is marked '${INLINE_MARK}'; a library cannot inline another`,
        );
      const lines = body.replace(/^#!.*\n/, "").replace(/\n$/, "");
      return `# --- scripts/${lib}, inlined ---\n${lines}\n# --- end of scripts/${lib} ---`;
    })
    .join("\n");
}
