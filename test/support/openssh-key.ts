// A throwaway ed25519 key pair in OpenSSH's formats, made with node:crypto alone (no ssh-keygen,
// no sshpk): tests that bring their own deploy key need a real key whose public half they know.
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface OpensshKeyPair {
  /** "-----BEGIN OPENSSH PRIVATE KEY-----" … (unencrypted, as ssh-keygen -N '' writes it). */
  privateKey: string;
  /** "ssh-ed25519 AAAA…" (no comment, no newline). */
  publicKey: string;
}

const sshString = (b: Buffer | string): Buffer => {
  const body = typeof b === "string" ? Buffer.from(b, "latin1") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};

/**
 * The layout is OpenSSH's PROTOCOL.key: magic, cipher "none", KDF "none", one key, the public
 * blob, then the private section (two equal check words, the key, a comment, padding 1, 2, 3… to
 * a multiple of 8), base64 wrapped at 70 columns.
 */
export function ed25519KeyPair(comment = "throwaway"): OpensshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const seed = Buffer.from(jwk.d!, "base64url");
  const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad = Buffer.from(Array.from({ length: (8 - (priv.length % 8)) % 8 }, (_, i) => i + 1));
  priv = Buffer.concat([priv, pad]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(blob),
    sshString(priv),
  ]).toString("base64");
  const lines = body.match(/.{1,70}/g)!.join("\n");
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString("base64")}`,
  };
}
