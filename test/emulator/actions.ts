// Hetzner actions (hcloud-go v2.35.0 hcloud/schema/action.go): every change answers at once with an
// action in `running`; it turns `success` when the work behind it finishes, or `error` with a code
// and message when the work fails. Clients poll GET /actions?id=… (hcloud-go action_waiter.go).

export type ActionStatus = "running" | "success" | "error";

export interface Action {
  id: number;
  command: string;
  status: ActionStatus;
  progress: number;
  started: string;
  finished: string | null;
  error: { code: string; message: string } | null;
  resources: { id: number; type: string }[];
}

export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00");

export class Actions {
  private seq = 0;
  readonly all = new Map<number, Action>();
  /** `command` → message: the next action with that command fails (control API fault injection). */
  readonly failNext = new Map<string, string>();
  private pending = new Set<Promise<unknown>>();

  /**
   * Starts an action. `work` runs after `after` (an earlier action of the same request, e.g.
   * create_server before start_server) and decides the outcome; `done` runs on both outcomes.
   */
  start(
    command: string,
    resources: { id: number; type: string }[],
    work: () => Promise<void>,
    opts: { after?: Promise<unknown>; done?: (ok: boolean) => void } = {},
  ): { action: Action; finished: Promise<boolean> } {
    const action: Action = {
      id: ++this.seq,
      command,
      status: "running",
      progress: 0,
      started: now(),
      finished: null,
      error: null,
      resources,
    };
    this.all.set(action.id, action);
    const injected = this.failNext.get(command);
    if (injected !== undefined) this.failNext.delete(command);
    const finished = (async () => {
      let ok = false;
      try {
        if (opts.after) {
          const prevOk = await opts.after;
          if (prevOk === false) throw new Error("an earlier action of this request failed");
        }
        if (injected !== undefined) throw new Error(injected);
        await work();
        ok = true;
        action.status = "success";
        action.progress = 100;
      } catch (e) {
        action.status = "error";
        action.error = { code: "action_failed", message: (e as Error).message || String(e) };
        process.stderr.write(
          `[hcloud-emulator] action ${action.id} ${command} failed: ${action.error.message}\n`,
        );
      }
      action.finished = now();
      opts.done?.(ok);
      return ok;
    })();
    this.pending.add(finished);
    void finished.finally(() => this.pending.delete(finished));
    return { action, finished };
  }

  /** An action that is already finished (e.g. a power-on of a running server). */
  done(command: string, resources: { id: number; type: string }[]): Action {
    const t = now();
    const action: Action = {
      id: ++this.seq,
      command,
      status: "success",
      progress: 100,
      started: t,
      finished: t,
      error: null,
      resources,
    };
    this.all.set(action.id, action);
    return action;
  }

  /** Waits for every running action (the emulator's stop()). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
