// The `releases` stack output (src/plan/releases.ts decides the list): the stack's own previous
// list, read through a StackReference to this very stack, plus this deploy's images.
//
// Measured with the real engine (pulumi v3.274.1, file:// backend; docs/releases.md): the
// self-reference is read on every preview and up; on the stack's first deploy it has no outputs;
// an up without changes shows no diff of the output (and `preview --expect-no-changes` passes,
// with --refresh too); an up that fails keeps the previous list.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceName } from "../src/config/keys";
import {
  currentImages,
  KEPT_IMAGES_FILE,
  keptImagesFile,
  nextReleases,
  RELEASE_SERVICES,
  type Release,
  type ReleaseService,
} from "../src/plan/releases";

export interface ReleasesArgs {
  /** images/<service> as configured. */
  configured: Record<ServiceName, string>;
  /** What the server pulls, per service (App.pulled). */
  pulled: Record<ServiceName, pulumi.Input<string>>;
  /** releases/keep. */
  keep: number;
  /** Read at the edge (index.ts): now, and the program's git commit. */
  date: string;
  commit: string;
  /**
   * The deploy's outcome (App.settled): on an up the list waits for every container and the
   * gate, so a failed deploy registers no new list and the previous one stays. Not on a preview,
   * where they are unknown whenever one is replaced: the preview shows the list the up will record.
   */
  settled: pulumi.Input<unknown>[];
  dryRun: boolean;
}

/** The stack's own fully qualified name, as a StackReference takes it. */
export function selfStackName(): string {
  return `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

export function releasesOutput(args: ReleasesArgs): pulumi.Output<Release[]> {
  const self = new pulumi.StackReference("releases", { name: selfStackName() });
  const pick = <T>(table: Record<ServiceName, T>) =>
    Object.fromEntries(RELEASE_SERVICES.map((s) => [s, table[s]])) as Record<ReleaseService, T>;
  const configured = pick(args.configured);
  return pulumi
    .all([self.getOutput("releases"), pulumi.all(pick(args.pulled)), ...(args.dryRun ? [] : args.settled)])
    .apply(([previous, pulled]) =>
      nextReleases(
        previous,
        currentImages(configured, pulled as Record<ReleaseService, string>),
        { date: args.date, commit: args.commit },
        args.keep,
      ),
    );
}

export interface KeptImagesArgs {
  /** How the host steps log in (the pinned host key). */
  connection: command.types.input.remote.ConnectionArgs;
  /** The stack's releases after this deploy (releasesOutput). */
  releases: pulumi.Output<Release[]>;
}

/**
 * The last releases' images, written to the server's KEPT_IMAGES_FILE for the weekly prune to spare
 * (scripts/lib/prune-images.sh). A new list changes stdin, which runs `create` again (an update:
 * pulumi-command remote/commandController.go:63-83); nothing runs on delete. On an up the list
 * waits for the deploy (releasesOutput), so a failed deploy leaves the previous file.
 */
export function keptImagesOnHost(
  name: string,
  args: KeptImagesArgs,
  opts?: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: `install -D -m 0644 /dev/stdin ${KEPT_IMAGES_FILE}`,
      stdin: args.releases.apply(keptImagesFile),
      addPreviousOutputInEnv: false,
    },
    opts,
  );
}
