/**
 * @module Static bearer tokens from a file, like kube-apiserver's
 * `--token-auth-file`: one `token,user,uid,"group1,group2"` line per token
 * (the groups column optional; `#` comments and blank lines skipped). The file
 * is read when the server starts.
 */
import { readFileSync } from "node:fs";
import { type AuthenticationResult, type Authenticator, Groups, type UserInfo } from "./types.ts";
import { bearerToken, constantTimeEqual } from "./tokens.ts";

export class TokenFileAuthenticator implements Authenticator {
  readonly name = "token-file";
  readonly #users: Map<string, UserInfo>;

  constructor(users: Map<string, UserInfo>) {
    this.#users = users;
  }

  /** Reads `file`; throws naming the line for a malformed one. */
  static fromFile(file: string): TokenFileAuthenticator {
    return new TokenFileAuthenticator(parseTokenFile(readFileSync(file, "utf8"), file));
  }

  authenticate(req: Request): AuthenticationResult | null {
    const token = bearerToken(req);
    if (!token) return null;
    for (const [t, user] of this.#users) if (constantTimeEqual(t, token)) return { user, authenticator: this.name };
    return null;
  }
}

export function parseTokenFile(text: string, file = "token file"): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(#|$)/.test(line)) return;
    const cols = csvLine(line);
    if (cols.length < 3 || !cols[0] || !cols[1]) throw new Error(`${file}:${i + 1}: expected token,user,uid[,"group1,group2"]`);
    const groups = (cols[3] ?? "").split(",").map((g) => g.trim()).filter(Boolean);
    out.set(cols[0], { name: cols[1], ...(cols[2] ? { uid: cols[2] } : {}), groups: [...new Set([...groups, Groups.authenticated])] });
  });
  return out;
}

/** One CSV record: commas separate, double quotes group, `""` is a quote. */
function csvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}
