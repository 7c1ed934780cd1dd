// Runs before every test file (vitest setupFiles): the program under mocks writes the Docker
// provider's ssh key file, so each test file gets its own directory, removed afterwards. npm test
// never writes /tmp/app-infra-ssh-<stack> (a user's real deploy key) nor ~/.ssh.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { SSH_DIR_ENV } from "../../src/live/ssh-files";

const dir = mkdtempSync(join(tmpdir(), "app-infra-test-ssh-"));
process.env[SSH_DIR_ENV] = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
