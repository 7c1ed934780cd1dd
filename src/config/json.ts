// JSON.parse that keeps every digit. Pulumi hands structured config to the program as JSON text
// (an object set with `pulumi config set --path` arrives as one JSON string), and `--path` stores
// any value strconv.Atoi accepts as a 64-bit integer (pulumi/pulumi sdk/go/common/resource/config,
// adjustObjectValue). JSON.parse would round an integer beyond 2^53 to a nearby double and a
// string key such as a queue name would silently change. Such integers become their decimal
// string instead; every other value parses exactly as JSON.parse does.

const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

export function parseJsonExact(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      // Copy a string literal verbatim (a digit inside it is not a number).
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m) {
        const token = m[0];
        const integer = m[1] === undefined && m[2] === undefined;
        out += integer && !Number.isSafeInteger(Number(token)) ? JSON.stringify(token) : token;
        i += token.length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return JSON.parse(out);
}
